// A run told the way a community manager reads it: one sentence per run, from the trace
// ("Ann entered Welcome series on 2 March at 10:00 because of Signed Up; got welcome at
// 10:00; waited 2 days; …"), and why a person never entered a journey at all.
import { type QueuedFacts, queueWait } from '../messages/queue-wait.ts'
import { describeTrigger } from './describe.ts'
import { planOf } from './plan.ts'
import type { Run } from './run.ts'
import type { TraceEntry } from './trace.ts'
import type { Journey } from './types.ts'
import { isTimezone } from './zoned-time.ts'

export interface StoryOptions {
  /** How to name the person ("Ann", or their userId). */
  readonly who: string
  /** Times are shown in this zone (the member's); UTC when absent or unknown. */
  readonly timezone?: string | null
  /** What became of each send, by `${runId}/${stepId}` (absent in a simulation). */
  readonly messages?: ReadonlyMap<string, MessageFate>
  /** The time the story is told at, to say how long a queued message has waited. */
  readonly now?: Date
}

const UNIT_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' }

/** "2d" → "2 days", "1d12h" → "1 day 12 hours". */
export function durationInWords(text: string): string {
  const parts = [...text.matchAll(/(\d+)([smhdw])/g)].map(([, n, u]) => {
    const word = UNIT_WORDS[u ?? ''] ?? u
    return `${n} ${word}${n === '1' ? '' : 's'}`
  })
  return parts.length ? parts.join(' ') : text
}

interface Clockface {
  /** "2 March 2026"; the year is left out when it is the one of the date shown before. */
  day(d: Date): string
  /** The calendar day with its year, to compare days. */
  dayKey(d: Date): string
  time(d: Date): string
}

function clockface(opts: StoryOptions): Clockface {
  const timeZone = opts.timezone && isTimezone(opts.timezone) ? opts.timezone : 'UTC'
  const yearFormat = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric' })
  let shownYear = ''
  const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'long' })
  const timeFormat = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
  return {
    day(d) {
      const year = yearFormat.format(d)
      const sameYear = year === shownYear
      shownYear = year
      return sameYear ? dayFormat.format(d) : `${dayFormat.format(d)} ${year}`
    },
    dayKey: (d) => `${dayFormat.format(d)} ${yearFormat.format(d)}`,
    time: (d) => timeFormat.format(d),
  }
}

const asDate = (v: unknown): Date | null =>
  v instanceof Date ? v : typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : null

const strip = (message: string, prefix: RegExp) => message.replace(prefix, '')

/** One sentence for a run: every decision of its trace, in order, dated when the day changes. */
export function tellRun(
  journey: Journey,
  run: Run,
  trace: readonly TraceEntry[],
  opts: StoryOptions,
): string {
  const face = clockface(opts)
  const plan = planOf(journey)
  let lastDay = ''
  const when = (at: Date) => {
    const key = face.dayKey(at)
    const text = key === lastDay ? `at ${face.time(at)}` : `on ${face.day(at)} at ${face.time(at)}`
    lastDay = key
    return text
  }
  const parts: string[] = []
  // The dispatcher's 'message' entries are told through the send they belong to (sendOutcome).
  const entries = trace.filter((t) => t.runId === run.id && t.kind !== 'message')
  for (const [i, t] of entries.entries()) {
    const next = entries.slice(i + 1).find((n) => n.kind !== 'timer_early' && n.kind !== 'timer_stale')
    const part = phrase(t, next)
    if (part) parts.push(part)
  }
  if (!entries.some((t) => t.kind === 'entered'))
    parts.unshift(`entered ${journey.name} ${when(run.enteredAt)}`)
  if (!run.endedAt && run.pending) {
    const step = run.pending.kind === 'goal' ? 'the goal window' : `step ${run.pending.stepId}`
    parts.push(`is now at ${step} until ${face.day(run.pending.until)} at ${face.time(run.pending.until)}`)
  }
  return `${opts.who} ${parts.join('; ')}.`

  /** `next` is the decision after `t`, if the run went on. */
  function phrase(t: TraceEntry, next: TraceEntry | undefined): string | null {
    switch (t.kind) {
      case 'entered':
        return `entered ${journey.name} ${when(t.at)} because of ${String(t.data['event'] ?? 'the trigger')}`
      case 'send': {
        const what = `${String(t.data['template'])} by ${String(t.data['channel'])} ${when(t.at)}`
        const message = opts.messages?.get(`${t.runId}/${t.stepId}`)
        return message ? sendOutcome(what, message, face, opts.now) : `got ${what}`
      }
      case 'delayed': {
        const step = t.stepId ? plan.byId.get(t.stepId)?.step : undefined
        const until = asDate(t.data['until'])
        if (t.message.startsWith('no wait')) return `did not wait: ${strip(t.message, /^no wait: /)}`
        const span = step?.type === 'delay' && step.for ? durationInWords(step.for) : null
        if (!next) return null // the pending part below says where the run stands
        const untilText = until ? `${face.day(until)} at ${face.time(until)}` : 'its end'
        // An exit or a goal that came mid-delay cut the wait short.
        if (until && next.at < until) return `was to wait ${span ?? ''} until ${untilText}`.replace('  ', ' ')
        return span ? `waited ${span}` : `waited until ${untilText}`
      }
      case 'waiting': {
        const step = t.stepId ? plan.byId.get(t.stepId)?.step : undefined
        return step?.type === 'wait'
          ? `waited for ${step.for.event} (up to ${durationInWords(step.timeout)})`
          : t.message
      }
      case 'received':
        return `did ${strip(t.message, /: taking the on_event path$/).replace(/ happened$/, '')} ${when(t.at)}`
      case 'timed_out':
        return `${strip(t.message, /: taking the on_timeout path$/)} ${when(t.at)}`
      case 'branch':
        return `went the '${String(t.data['path'])}' way (${strip(t.message, /^branch '[^']*' taken:? ?(because )?/)})`
      case 'split':
        return `was put in variant '${String(t.data['variant'])}'`
      case 'update':
        return 'had the profile updated'
      case 'goal_window':
        return null
      case 'converted':
        return `converted ${when(t.at)}: ${strip(t.message, /^converted: /)}`
      case 'exited':
        return `exited ${when(t.at)}: ${strip(t.message, /^exited: /)}`
      case 'completed':
        return `completed ${when(t.at)}: ${strip(t.message, /^completed: /)}`
      case 'failed':
        return `failed ${when(t.at)}: ${strip(t.message, /^failed: /)}`
      case 'skipped':
      case 'timer_early':
      case 'timer_stale':
      // The dispatcher's verdicts: the send sentence above already tells the message's fate.
      case 'message':
        return null
      default: {
        const never: never = t.kind
        return never
      }
    }
  }
}

/** What became of a queued message, as the message log says. */
export interface MessageFate {
  readonly status: string
  readonly error: string | null
  /** For a message still in the queue: what it waits for. */
  readonly queued?: QueuedFacts | null
}

/** Whether the member got it, may still get it, or a guard or the channel held it back. */
export function reached(m: MessageFate): 'got' | 'pending' | 'held' {
  switch (m.status) {
    case 'sent':
    case 'delivered':
    case 'opened':
    case 'clicked':
      return 'got'
    case 'queued':
    case 'sending':
      return 'pending'
    default:
      return 'held'
  }
}

export const heldBecause = (m: MessageFate) => `${m.status}${m.error ? ` (${m.error})` : ''}`

/** A send as the member lived it. */
function sendOutcome(what: string, m: MessageFate, face: Clockface, now: Date | undefined): string {
  switch (reached(m)) {
    case 'got':
      return m.status === 'sent' ? `got ${what}` : `got ${what} (${m.status})`
    case 'pending':
      if (m.status === 'sending') return `has ${what} on its way (being sent)`
      return m.queued && now
        ? `has ${what} in the queue, ${queueWait(m.queued, now, (d) => `on ${face.day(d)} at ${face.time(d)}`)}`
        : `has ${what} in the queue, not sent yet`
    case 'held':
      return `did not get ${what}: ${heldBecause(m)}`
  }
}

export interface NeverEnteredInput {
  readonly journey: Journey
  /** Trace entries of this person's skipped entries into the journey. */
  readonly skipped: readonly TraceEntry[]
  /** For an event trigger: how often the person did the trigger event, and when last. */
  readonly triggerEvents?: { readonly count: number; readonly lastAt: Date | null }
  /** When the journey was first applied: earlier events could not start a run. */
  readonly appliedAt?: Date | null
}

/** One sentence per refused entry, with the entry rule's reason. */
export function tellSkipped(skipped: readonly TraceEntry[], opts: StoryOptions): string[] {
  const face = clockface(opts)
  return skipped.map(
    (s) =>
      `On ${face.day(s.at)} at ${face.time(s.at)} the entry was skipped: ${strip(s.message, /^skipped: /)}.`,
  )
}

/** Why a person has no run of a journey, in sentences. */
export function tellNeverEntered(input: NeverEnteredInput, opts: StoryOptions): string[] {
  const { journey } = input
  const face = clockface(opts)
  const at = (d: Date) => `${face.day(d)} at ${face.time(d)}`
  const out = [`${opts.who} never entered ${journey.name}.`]
  out.push(...tellSkipped(input.skipped, opts))
  if (input.skipped.length > 0) return out
  const trigger = journey.trigger
  if (trigger.type !== 'event' || !input.triggerEvents) {
    out.push(`Its trigger (${describeTrigger(trigger)}) never matched for ${opts.who}.`)
    return out
  }
  const { count, lastAt } = input.triggerEvents
  if (count === 0) {
    out.push(`${opts.who} never did ${trigger.event}, the event that starts it.`)
    return out
  }
  const times = count === 1 ? 'once' : `${count} times`
  const last = lastAt ? `, last on ${at(lastAt)}` : ''
  if (lastAt && input.appliedAt && lastAt < input.appliedAt) {
    out.push(
      `${opts.who} did ${trigger.event} ${times}${last}, before the journey existed (${at(input.appliedAt)}).`,
    )
  } else if (trigger.where?.length) {
    out.push(
      `${opts.who} did ${trigger.event} ${times}${last}, but never as the trigger asks: ${describeTrigger(trigger)}.`,
    )
  } else {
    out.push(
      `${opts.who} did ${trigger.event} ${times}${last}, but the journey was not published then (drafts and paused journeys start no runs).`,
    )
  }
  return out
}
