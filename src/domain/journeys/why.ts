// "Why did (not) this person get <template>?", answered in sentences from the journey and
// the trace of the person's runs (and of the entries that were skipped).
import { queueWait } from '../messages/queue-wait.ts'
import { planOf, type StepNode } from './plan.ts'
import type { Run } from './run.ts'
import { heldBecause, type MessageFate, reached } from './story.ts'
import type { TraceEntry } from './trace.ts'
import type { Journey } from './types.ts'

export interface RunHistory {
  readonly run: Run
  readonly trace: readonly TraceEntry[]
}

export interface WhyInput {
  readonly journey: Journey
  readonly template: string
  /** The person's runs of this journey, each with its trace. */
  readonly runs: readonly RunHistory[]
  /** Trace entries of entries that were skipped (kind "skipped", no run). */
  readonly skipped?: readonly TraceEntry[]
  /** How to name the person in the answer. */
  readonly who?: string
  /** What became of each queued message, by `${runId}/${stepId}`: a guard may have held it back. */
  readonly messages?: ReadonlyMap<string, MessageFate>
  /** The time of the answer, to say how long a queued message has waited. */
  readonly now?: Date
}

const day = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16)

/** What a decision at `owner` must have been for the run to go into `block`. */
function decisionFor(
  owner: StepNode,
  block: string,
): { kind: TraceEntry['kind'][]; expected: string; matches: (t: TraceEntry) => boolean } {
  const step = owner.step
  if (step.type === 'branch') {
    const i = /^paths\[(\d+)\]/.exec(block)?.[1]
    const name = i === undefined ? 'else' : (step.paths[Number(i)]?.name ?? '?')
    return {
      kind: ['branch'],
      expected: `the branch path '${name}'`,
      matches: (t) => t.data['path'] === name,
    }
  }
  if (step.type === 'split') {
    const i = Number(/^variants\[(\d+)\]/.exec(block)?.[1])
    const name = step.variants[i]?.name ?? '?'
    return {
      kind: ['split'],
      expected: `the split variant '${name}'`,
      matches: (t) => t.data['variant'] === name,
    }
  }
  if (block === 'on_event') {
    return {
      kind: ['received', 'timed_out'],
      expected: 'the awaited event',
      matches: (t) => t.kind === 'received',
    }
  }
  return {
    kind: ['received', 'timed_out'],
    expected: 'the wait to time out',
    matches: (t) => t.kind === 'timed_out',
  }
}

/** Why a run that never reached `target` took another way, if a decision explains it. */
function divergence(target: StepNode, trace: readonly TraceEntry[]): string | null {
  let child: StepNode = target
  for (let owner = target.parent; owner; child = owner, owner = owner.parent) {
    const block = Object.entries(owner.blocks).find(([, nodes]) => nodes.includes(child))?.[0]
    if (block === undefined) continue
    const want = decisionFor(owner, block)
    const taken = trace.find((t) => t.stepId === owner.id && want.kind.includes(t.kind))
    if (taken && !want.matches(taken))
      return `${target.step.type === 'send' ? 'the message' : 'it'} needs ${want.expected}, but ${taken.message}`
  }
  return null
}

export function explainWhy(input: WhyInput): string[] {
  const { journey, template } = input
  const waitOf = (fate: MessageFate) =>
    fate.status === 'sending'
      ? 'it is being sent'
      : fate.queued && input.now
        ? queueWait(fate.queued, input.now, (d) => `on ${day(d)}`)
        : 'it is in the queue'
  const who = input.who ?? 'This person'
  const whoInSentence = input.who ?? 'this person'
  const plan = planOf(journey)
  const sendSteps = [...plan.byId.values()].filter(
    (n) => n.step.type === 'send' && n.step.template === template,
  )
  if (sendSteps.length === 0) return [`Journey ${journey.id} never sends ${template}.`]
  const out: string[] = []
  const skips = input.skipped ?? []
  if (input.runs.length === 0) {
    out.push(
      skips.length === 0
        ? `${who} never entered journey ${journey.id}, so never got ${template}.`
        : `${who} never entered journey ${journey.id}, so never got ${template}:`,
    )
  }
  for (const skip of skips)
    out.push(`On ${day(skip.at)}, ${skip.message.replace(/^skipped: /, 'the entry was skipped: ')}.`)
  for (const { run, trace } of input.runs) {
    const entered = trace.find((t) => t.kind === 'entered')
    const intro = `In the run that ${entered ? entered.message : `started on ${day(run.enteredAt)}`}`
    const sent = trace.filter((t) => t.kind === 'send' && t.data['template'] === template)
    if (sent.length > 0) {
      for (const s of sent) {
        // The trace is in decision order: a delay noted at the same instant after the send is not a cause.
        const before = trace
          .slice(0, trace.indexOf(s))
          .filter((t) => ['branch', 'split', 'waiting', 'received', 'timed_out', 'delayed'].includes(t.kind))
        const because = before.map((t) => t.message).join('; ')
        const after = because ? ` after: ${because}` : ''
        const fate = input.messages?.get(`${run.id}/${s.stepId}`)
        if (fate && reached(fate) === 'held')
          out.push(
            `${intro}, ${template} was queued on ${day(s.at)}${after}, but held back: ${heldBecause(fate)}.`,
          )
        else if (fate && reached(fate) === 'pending')
          out.push(
            `${intro}, ${template} was queued on ${day(s.at)}${after}, and is not sent yet: ${waitOf(fate)}.`,
          )
        else out.push(`${intro}, ${whoInSentence} got ${template} on ${day(s.at)}${after}.`)
      }
      continue
    }
    const reasons = sendSteps.map((n) => divergence(n, trace)).filter((r): r is string => r !== null)
    if (reasons.length > 0) {
      out.push(`${intro}, ${template} was not sent: ${reasons[0]}.`)
    } else if (run.endedAt) {
      out.push(
        `${intro}, ${template} was not sent: the run ended on ${day(run.endedAt)} before reaching it (${run.outcome}).`,
      )
    } else {
      const last = [...trace]
        .reverse()
        .find((t) => t.kind === 'delayed' || t.kind === 'waiting' || t.kind === 'goal_window')
      out.push(
        `${intro}, ${template} has not been sent yet: ${last ? last.message : `the run is ${run.status}`}.`,
      )
    }
  }
  return out
}
