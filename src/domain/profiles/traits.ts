// Trait merging, following Segment: an identify sends the traits it knows, not all of
// them, so top-level keys are merged into what the profile already has.

export type Traits = Readonly<Record<string, unknown>>

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Top-level merge: each incoming key replaces the stored value (nested objects and
 * arrays are replaced whole, never deep-merged); a `null` value clears the trait, as
 * Segment's profiles do when a trait is reset. Keys absent from `incoming` are kept.
 */
export function mergeTraits(current: Traits, incoming: unknown): Traits {
  if (!isPlainObject(incoming)) return current
  const out: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(incoming)) {
    if (value === null) delete out[key]
    else if (value !== undefined) out[key] = value
  }
  return out
}

/** Traits of two profiles that are the same person: `winner`'s values take precedence. */
export function combineTraits(loser: Traits, winner: Traits): Traits {
  return { ...loser, ...winner }
}

/** An incoming traits object split for SQL: keys to set, and keys a null clears. */
export function traitChanges(incoming: unknown): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {}
  const remove: string[] = []
  if (typeof incoming !== 'object' || incoming === null || Array.isArray(incoming)) return { set, remove }
  for (const [key, value] of Object.entries(incoming)) {
    if (value === null) remove.push(key)
    else if (value !== undefined) set[key] = value
  }
  return { set, remove }
}
