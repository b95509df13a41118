// Segments can be built on segments ("engaged and not in churn-risk"). They must then be
// evaluated dependencies first, refer only to segments that exist, and never form a cycle.

import { conditionRefs } from '../conditions/references.ts'
import type { ErrorIssue } from '../errors.ts'
import type { Segment } from './types.ts'

export type SegmentOrder =
  | { readonly ok: true; readonly order: readonly Segment[] }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Segments sorted so that each comes after the segments its condition refers to. */
export function segmentOrder(segments: readonly Segment[]): SegmentOrder {
  const byId = new Map<string, Segment>()
  for (const s of segments) if (!byId.has(s.id)) byId.set(s.id, s)
  const issues: ErrorIssue[] = []
  segments.forEach((s, i) => {
    if (byId.get(s.id) !== s)
      issues.push({ path: `segments[${i}].id`, message: `segment id ${s.id} is used twice` })
    for (const dep of conditionRefs(s.condition).segments) {
      if (!byId.has(dep)) {
        issues.push({
          path: `segments[${i}].condition`,
          message: `segment ${s.id} refers to unknown segment ${dep}`,
        })
      }
    }
  })
  if (issues.length) return { ok: false, issues }

  const order: Segment[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (s: Segment, trail: string[]): string[] | null => {
    const st = state.get(s.id)
    if (st === 'done') return null
    if (st === 'visiting') return [...trail.slice(trail.indexOf(s.id)), s.id]
    state.set(s.id, 'visiting')
    for (const dep of [...conditionRefs(s.condition).segments].sort()) {
      const cycle = visit(byId.get(dep)!, [...trail, s.id])
      if (cycle) return cycle
    }
    state.set(s.id, 'done')
    order.push(s)
    return null
  }
  for (const s of segments) {
    const cycle = visit(s, [])
    if (cycle) {
      const i = segments.findIndex((x) => x.id === cycle[0])
      return {
        ok: false,
        issues: [
          {
            path: `segments[${i}].condition`,
            message: `segments refer to each other in a cycle: ${cycle.join(' → ')}`,
          },
        ],
      }
    }
  }
  return { ok: true, order }
}
