// Entry keys such as "{{ event.properties.comment_id }}": a tiny template over the event
// and the profile. Only paths, no filters: a key must be predictable.
import type { EventFacts, ProfileFacts } from '../conditions/types.ts'
import { valueAt } from './event.ts'

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.$-]+)\s*\}\}/g

export type KeyResult =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly missing: string }

export function renderKey(template: string, event: EventFacts, profile: ProfileFacts | null): KeyResult {
  const scope = { event, profile: profile ? { ...profile, ...profile.traits, traits: profile.traits } : {} }
  let missing: string | null = null
  const key = template.replace(PLACEHOLDER, (_, path: string) => {
    const v = valueAt(scope, path)
    if (v === undefined || v === null || v === '') {
      missing ??= path
      return ''
    }
    return typeof v === 'object' ? JSON.stringify(v) : String(v)
  })
  return missing ? { ok: false, missing } : { ok: true, key }
}

/** The paths a key template reads, for validation. */
export function keyPaths(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!)
}
