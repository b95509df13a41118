// A stable 32-bit hash (FNV-1a) for sticky splits: the same text gives the same number on
// every machine and every release, which Math.random or a seeded PRNG would not promise.
export function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
