import { createHash } from 'node:crypto'

/**
 * A messageId derived from the row's content, for rows that have none: importing
 * the same file twice then stores nothing twice (the second run reports duplicates).
 */
export function importMessageId(content: string): string {
  return `import-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`
}
