// Loading a journey file (YAML or JSON: JSON is read by the YAML parser, which gives line
// numbers for both). Every problem is reported at once, each with the file, the line when
// known, the path in the document and, where we can, a hint.
import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import type { z } from 'zod'
import { type CheckIssue, type CheckOptions, checkJourney, pathText } from './checks.ts'
import { JourneySchema } from './schema.ts'
import type { Journey } from './types.ts'

export interface JourneyIssue {
  readonly file: string
  readonly line: number | null
  readonly column: number | null
  /** e.g. "steps[1].timeout"; empty for the whole document. */
  readonly path: string
  readonly message: string
  readonly hint: string | null
}

export type ParseResult =
  | { readonly ok: true; readonly journey: Journey }
  | { readonly ok: false; readonly errors: readonly JourneyIssue[] }

export type ParseOptions = CheckOptions

export function parseJourneyDocument(
  text: string,
  fileName: string,
  options: ParseOptions = {},
): ParseResult {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        file: fileName,
        line: e.linePos?.[0].line ?? null,
        column: e.linePos?.[0].col ?? null,
        path: '',
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
        hint: fileName.endsWith('.json') ? 'check the JSON syntax' : 'check the YAML indentation and quotes',
      })),
    }
  }
  const data: unknown = doc.toJS()
  const locate = locator(doc, lineCounter)
  const checked = checkDocument(data, options)
  if (!checked.ok) {
    const issues = checked.issues.map((issue) => ({
      file: fileName,
      ...locate(issue.path),
      path: pathText(issue.path),
      message: issue.message,
      hint: issue.hint,
    }))
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    return { ok: false, errors: issues }
  }
  return { ok: true, journey: checked.journey }
}

export type CheckResult =
  | { readonly ok: true; readonly journey: Journey }
  | { readonly ok: false; readonly issues: readonly CheckIssue[] }

/**
 * The schema and every check on a document already read (a parsed file, or the JSON body
 * of the admin API): the one place that decides whether a journey is valid.
 */
export function checkDocument(data: unknown, options: ParseOptions = {}): CheckResult {
  const issues: CheckIssue[] = []
  const result = JourneySchema.safeParse(data)
  if (!result.success) {
    for (const issue of flatten(result.error.issues)) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
      issues.push({ path, message: wording(issue), hint: null })
    }
  }
  issues.push(...checkJourney(data, options))
  if (issues.length > 0 || !result.success) return { ok: false, issues: dedupe(issues) }
  return { ok: true, journey: result.data }
}

type Located = { line: number | null; column: number | null }

/** Where a path of the document is written: the deepest node that exists on it (a missing key points at its parent). */
function locator(doc: Document, lineCounter: LineCounter): (path: readonly PropertyKey[]) => Located {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined
      if (node && (node as { range?: unknown }).range) {
        const pos = lineCounter.linePos(node.range![0])
        return { line: pos.line, column: pos.col }
      }
      if (n === 0 && (isMap(doc.contents) || isSeq(doc.contents)) && doc.contents.range) {
        const pos = lineCounter.linePos(doc.contents.range[0])
        return { line: pos.line, column: pos.col }
      }
    }
    return { line: null, column: null }
  }
}

/** The line a path of a journey file is on, for issues found after parsing (e.g. across files). */
export function lineOf(text: string, path: readonly (string | number)[]): number | null {
  const lineCounter = new LineCounter()
  return locator(parseDocument(text, { lineCounter }), lineCounter)(path).line
}

/** "file:line: path: message (hint)" */
export function formatIssue(i: JourneyIssue): string {
  const where = i.line === null ? i.file : `${i.file}:${i.line}`
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}${i.hint ? ` (${i.hint})` : ''}`
}

/** Of the alternatives of a union, keep the issues of the one that came closest. */
function flatten(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue]
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!
    return flatten(best.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })))
  })
}

function wording(issue: z.core.$ZodIssue): string {
  const key = issue.path.at(-1)
  if (
    issue.code === 'invalid_type' &&
    issue.message.endsWith('received undefined') &&
    typeof key === 'string'
  ) {
    return `${key} is missing`
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
  return issue.message
}

function dedupe(issues: CheckIssue[]): CheckIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const k = `${pathText(i.path)}|${i.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
