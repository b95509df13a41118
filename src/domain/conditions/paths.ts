// Dot paths into traits ("address.city") and into events ("properties.forum",
// "context.locale", "name"). Only own properties are read, so a path such as
// "constructor" never reaches into JavaScript internals.
import type { EventFacts } from './types.ts'

/** The roots an event path may start with. */
export const EVENT_ROOTS = ['name', 'type', 'timestamp', 'properties', 'traits', 'context'] as const
export type EventRoot = (typeof EVENT_ROOTS)[number]

/**
 * Reads `path` in `value`. A key that itself contains dots wins over nesting
 * (traits `{ "address.city": "Lyon" }` and `{ address: { city: "Lyon" } }` both answer
 * "address.city"). Numeric segments index arrays ("items.0.id"). Missing → undefined.
 */
export function resolvePath(value: unknown, path: string): unknown {
  let current: unknown = value
  let rest = path
  while (true) {
    if (current === null || typeof current !== 'object') return undefined
    if (Object.hasOwn(current, rest)) return (current as Record<string, unknown>)[rest]
    const dot = rest.indexOf('.')
    if (dot < 0) return undefined
    const head = rest.slice(0, dot)
    if (!Object.hasOwn(current, head)) return undefined
    current = (current as Record<string, unknown>)[head]
    rest = rest.slice(dot + 1)
  }
}

/** The root of an event path, or null if the path does not start with a known one. */
export function eventRoot(path: string): EventRoot | null {
  const head = path.split('.', 1)[0]
  return (EVENT_ROOTS as readonly string[]).includes(head ?? '') ? (head as EventRoot) : null
}

/** Reads a field of an event: "name", "type", "timestamp", "properties.x", "traits.x", "context.x". */
export function eventValue(event: EventFacts, path: string): unknown {
  const root = eventRoot(path)
  if (root === null) return undefined
  if (root === 'name' || root === 'type' || root === 'timestamp') {
    return path === root ? event[root] : undefined
  }
  if (path === root) return event[root]
  return resolvePath(event[root], path.slice(root.length + 1))
}
