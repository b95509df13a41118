// Runs steps from a given one until the run has to wait (a delay, a wait, the goal window)
// or ends. Each step leaves a trace entry saying what it decided and why.
import { delayUntil } from './delay.ts'
import { describeCondition, describeMatch } from './describe.ts'
import { durationMs } from './duration.ts'
import { effectKey } from './effects.ts'
import { fnv1a } from './hash.ts'
import { correlationValue } from './match.ts'
import { enterBlock, nextAfter, type StepNode } from './plan.ts'
import { conditionContext, end, note, park, type Session, timerId, timezoneOf } from './session.ts'
import type { SplitStep } from './types.ts'
import { formatZoned } from './zoned-time.ts'

export function walk(s: Session, start: StepNode | null): void {
  let node = start
  while (node) {
    node = runStep(s, node)
  }
  if (s.run.pending === null && s.run.endedAt === null) finish(s)
}

/** Runs one step; returns the next step, or null when the run waits or has ended. */
function runStep(s: Session, node: StepNode): StepNode | null {
  const step = node.step
  const { run, now } = s
  switch (step.type) {
    case 'delay': {
      const out = delayUntil(step, { now, traits: s.deps.profile.traits, timezone: timezoneOf(s) })
      if (!out.ok) {
        end(s, 'failed', node.id, `failed: the delay cannot be computed: ${out.reason}`, {
          reason: out.reason,
        })
        return null
      }
      if (out.at.getTime() <= now.getTime()) {
        note(s, 'delayed', node.id, `no wait: ${out.description} is already past`, { until: out.at })
        return nextAfter(node)
      }
      park(
        s,
        { kind: 'delay', stepId: node.id, timerId: timerId(s, node.id), until: out.at },
        'delay',
        'delayed',
      )
      note(s, 'delayed', node.id, `waiting until ${out.description}`, { until: out.at })
      return null
    }
    case 'wait': {
      const until = new Date(now.getTime() + durationMs(step.timeout))
      const expected = correlationValue(step.for.correlate, run.triggerEvent)
      if (step.for.correlate !== undefined) run.correlation = { ...run.correlation, [node.id]: expected }
      park(
        s,
        { kind: 'wait', stepId: node.id, timerId: timerId(s, node.id), until },
        'wait_timeout',
        'waiting',
      )
      const uncorrelated =
        step.for.correlate !== undefined && expected === undefined
          ? ' (the trigger event has no value to correlate: any such event counts)'
          : expected !== undefined
            ? ` with ${JSON.stringify(expected)}`
            : ''
      note(
        s,
        'waiting',
        node.id,
        `waiting for ${describeMatch(step.for)}${uncorrelated} until ${formatZoned(until, timezoneOf(s))} ${timezoneOf(s)} (timeout ${step.timeout})`,
        { event: step.for.event, until, correlation: expected ?? null },
      )
      return null
    }
    case 'branch': {
      const ctx = conditionContext(s, run.triggerEvent)
      for (const [i, path] of step.paths.entries()) {
        if (s.deps.evaluate(path.when, ctx)) {
          note(s, 'branch', node.id, `branch '${path.name}' taken because ${describeCondition(path.when)}`, {
            path: path.name,
          })
          return enterBlock(node, `paths[${i}].steps`)
        }
      }
      const tried = step.paths.map((p) => `'${p.name}' (${describeCondition(p.when)})`).join(', ')
      note(s, 'branch', node.id, `branch 'else' taken: no path matched among ${tried}`, { path: 'else' })
      return enterBlock(node, 'else')
    }
    case 'split': {
      const [i, variant] = pickVariant(s, node.id, step)
      note(s, 'split', node.id, `split: variant '${variant.name}' (weight ${variant.weight})`, {
        variant: variant.name,
      })
      return enterBlock(node, `variants[${i}].steps`)
    }
    case 'send': {
      s.effects.push({
        type: 'send',
        runId: run.id,
        journeyId: run.journeyId,
        profileId: run.profileId,
        stepId: node.id,
        channel: step.channel,
        template: step.template,
        from: step.from ?? null,
        replyTo: step.reply_to ?? null,
        plainText: step.plain_text ?? false,
        transactional: step.transactional ?? false,
        idempotencyKey: effectKey(run.id, node.id, 'send'),
      })
      run.lastSend = { stepId: node.id, channel: step.channel, template: step.template, at: now }
      note(s, 'send', node.id, `send ${step.template} by ${step.channel}`, {
        channel: step.channel,
        template: step.template,
      })
      return nextAfter(node)
    }
    case 'update': {
      s.effects.push({
        type: 'update_profile',
        runId: run.id,
        profileId: run.profileId,
        stepId: node.id,
        set: step.set ?? {},
        unset: step.unset ?? [],
        points: step.points ?? 0,
        addTags: step.tags?.add ?? [],
        removeTags: step.tags?.remove ?? [],
        badge: step.badge ?? null,
        idempotencyKey: effectKey(run.id, node.id, 'update'),
      })
      note(s, 'update', node.id, `update the profile`, { set: step.set ?? {}, unset: step.unset ?? [] })
      return nextAfter(node)
    }
    case 'exit': {
      const reason = step.reason ?? 'exit step'
      end(s, 'exited', node.id, `exited: ${reason}`, { reason })
      return null
    }
    default: {
      const never: never = step
      return never
    }
  }
}

/** Sticky: the same profile always lands in the same variant of the same split. */
function pickVariant(s: Session, stepId: string, step: SplitStep): [number, SplitStep['variants'][number]] {
  const hash = s.deps.hash ?? fnv1a
  const total = step.variants.reduce((sum, v) => sum + v.weight, 0)
  const point = (hash(`${s.journey.id}:${stepId}:${s.run.profileId}`) / 2 ** 32) * total
  let acc = 0
  for (const [i, v] of step.variants.entries()) {
    acc += v.weight
    if (point < acc) return [i, v]
  }
  const last = step.variants.length - 1
  return [last, step.variants[last]!]
}

/** After the last step: listen for the goal until its window closes, or complete. */
function finish(s: Session): void {
  const goal = s.journey.goal
  if (goal?.within) {
    const until = new Date(s.run.enteredAt.getTime() + durationMs(goal.within))
    if (until.getTime() > s.now.getTime()) {
      park(s, { kind: 'goal', timerId: timerId(s, 'goal'), until }, 'goal_window', 'waiting')
      note(
        s,
        'goal_window',
        null,
        `all steps done; the goal stays open until ${formatZoned(until, timezoneOf(s))}`,
        {
          until,
        },
      )
      return
    }
  }
  end(s, 'completed', null, 'completed: all steps done')
}
