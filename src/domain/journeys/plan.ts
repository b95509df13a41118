// The step tree of a journey, indexed by step id. A run's cursor is a step id; "what comes
// next" is the following step in the same block, else the step after the block's owner
// (a wait, branch or split), else the end of the journey. Built once per journey object.
import type { Journey, Step } from './types.ts'

export interface StepNode {
  readonly id: string
  readonly step: Step
  /** Where the step sits in the document, e.g. "steps[1].on_timeout[0]". */
  readonly path: string
  readonly parent: StepNode | null
  /** The block holding this step (its siblings, in order) and its index there. */
  readonly siblings: readonly StepNode[]
  readonly index: number
  /** Blocks owned by this step: on_event, on_timeout, paths[i], else, variants[i]. */
  readonly blocks: Readonly<Record<string, readonly StepNode[]>>
}

export interface JourneyPlan {
  readonly journey: Journey
  readonly top: readonly StepNode[]
  readonly byId: ReadonlyMap<string, StepNode>
}

/** The blocks of a step, keyed by their path suffix, in document order. */
export function childBlocks(step: Step): [string, readonly Step[]][] {
  switch (step.type) {
    case 'wait':
      return [
        ['on_event', step.on_event ?? []],
        ['on_timeout', step.on_timeout ?? []],
      ]
    case 'branch':
      return [
        ...step.paths.map((p, i): [string, readonly Step[]] => [`paths[${i}].steps`, p.steps]),
        ['else', step.else ?? []],
      ]
    case 'split':
      return step.variants.map((v, i): [string, readonly Step[]] => [`variants[${i}].steps`, v.steps])
    case 'delay':
    case 'send':
    case 'update':
    case 'exit':
      return []
    default: {
      const never: never = step
      return never
    }
  }
}

/** The id a step has: its own, or its path in the document. */
export function stepIdAt(step: Step, path: string): string {
  return step.id ?? path
}

const plans = new WeakMap<Journey, JourneyPlan>()

export function planOf(journey: Journey): JourneyPlan {
  const cached = plans.get(journey)
  if (cached) return cached
  const byId = new Map<string, StepNode>()
  const build = (steps: readonly Step[], prefix: string, parent: StepNode | null): StepNode[] => {
    const siblings: StepNode[] = []
    steps.forEach((step, index) => {
      const path = `${prefix}[${index}]`
      const blocks: Record<string, readonly StepNode[]> = {}
      const node: StepNode = { id: stepIdAt(step, path), step, path, parent, siblings, index, blocks }
      if (byId.has(node.id)) throw new Error(`duplicate step id ${node.id}: validate the journey first`)
      byId.set(node.id, node)
      siblings.push(node)
      for (const [name, block] of childBlocks(step)) blocks[name] = build(block, `${path}.${name}`, node)
    })
    return siblings
  }
  const plan: JourneyPlan = { journey, top: build(journey.steps, 'steps', null), byId }
  plans.set(journey, plan)
  return plan
}

/** The step to run after `node` has finished (its blocks included), or null at the end. */
export function nextAfter(node: StepNode): StepNode | null {
  const sibling = node.siblings[node.index + 1]
  if (sibling) return sibling
  return node.parent ? nextAfter(node.parent) : null
}

/** The first step of a block owned by `owner`, or what follows the owner if it is empty. */
export function enterBlock(owner: StepNode, block: string): StepNode | null {
  return owner.blocks[block]?.[0] ?? nextAfter(owner)
}
