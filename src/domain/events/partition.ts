// Events are consumed in order per partition; the partition is a stable hash of
// the identity an event arrives with, so one person's events stay in one lane.

export const PARTITIONS = 64

/** FNV-1a 32-bit: fast, stable across processes and versions. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** userId wins over anonymousId: after identify, SDKs send the userId on every call. */
export function partitionOf(workspaceId: string, userId: string | null, anonymousId: string | null): number {
  return fnv1a(`${workspaceId}\u0000${userId ?? anonymousId ?? ''}`) % PARTITIONS
}
