// The config file: nudge.config.yaml (or .yml, or .json, which the YAML parser reads too),
// given by --config or NUDGE_CONFIG, else found in the working directory. It holds the
// server settings the environment holds, and channel settings per workspace. `${NAME}` in a
// value is replaced by the environment variable NAME (`${NAME:-fallback}` when it may be
// unset, `$${` for a literal `${`), so the file can be committed without its secrets. Every
// wrong value is reported with the file, the line and the path.
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { type Document, isMap, isPair, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml'
import { z } from 'zod'
import { channelModules } from './channels/registry.ts'
import { CHANNEL_NAMES, type ChannelName } from './channels/types.ts'
import { type ErrorIssue, NudgeError } from './domain/errors.ts'
import { FILE_PATHS, type SettingName, settings } from './settings.ts'

export const CONFIG_FILE_NAMES = ['nudge.config.yaml', 'nudge.config.yml', 'nudge.config.json'] as const

export type ChannelSettings = Partial<Record<ChannelName, Readonly<Record<string, unknown>>>>

export interface ConfigFile {
  /** As shown in messages: relative to the working directory when inside it. */
  readonly path: string
  /** Server settings by environment variable name; the environment wins over them. */
  readonly settings: Partial<Record<SettingName, unknown>>
  /** Channel settings per workspace, with variables resolved, applied at start. */
  readonly workspaces: Readonly<Record<string, { readonly channels: ChannelSettings }>>
}

const channelSettings = (name: ChannelName) =>
  z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const checked = channelModules[name]?.validateConfig(value)
    if (checked && !checked.ok) {
      for (const i of checked.issues) {
        const path = i.path ? i.path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : []
        ctx.addIssue({ code: 'custom', message: i.message, path })
      }
    }
  })

function buildSchema() {
  const top: Record<string, z.ZodType> = {}
  const groups: Record<string, Record<string, z.ZodType>> = {}
  for (const [name, path] of Object.entries(FILE_PATHS) as [SettingName, readonly string[]][]) {
    const check = settings[name].optional()
    const [first, second] = path
    if (!first) continue
    if (second === undefined) top[first] = check
    else {
      const group = groups[first] ?? {}
      group[second] = check
      groups[first] = group
    }
  }
  return z.strictObject({
    ...top,
    ...Object.fromEntries(
      Object.entries(groups).map(([k, fields]) => [k, z.strictObject(fields).optional()]),
    ),
    workspaces: z
      .record(
        z.string().min(1),
        z.strictObject({
          channels: z
            .strictObject(Object.fromEntries(CHANNEL_NAMES.map((n) => [n, channelSettings(n).optional()])))
            .optional(),
        }),
      )
      .optional(),
  })
}

const fileSchema = buildSchema()

interface Located {
  readonly path: readonly (string | number)[]
  readonly line: number | null
  readonly message: string
}

function configError(file: string, issues: readonly Located[]): NudgeError {
  const sorted = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  const text = (i: Located) =>
    `${i.line === null ? file : `${file}:${i.line}`}: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`
  const out: ErrorIssue[] = sorted.map((i) => ({
    path: `${i.line === null ? file : `${file}:${i.line}`}${i.path.length ? ` ${i.path.join('.')}` : ''}`,
    message: i.message,
  }))
  return new NudgeError(
    'NUDGE_ERR_CONFIG',
    `Invalid configuration file ${file}:\n${sorted.map((i) => `  ${text(i)}`).join('\n')}`,
    out,
  )
}

/** The line of the deepest node that exists on `path` (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined
    if (node && (isMap(node) || isSeq(node) || 'range' in node) && node.range)
      return lines.linePos(node.range[0]).line
  }
  return null
}

/** The line of a key itself (for an unknown setting). */
function keyLine(
  doc: Document,
  lines: LineCounter,
  parent: readonly (string | number)[],
  key: string,
): number | null {
  const map = parent.length === 0 ? doc.contents : doc.getIn(parent, true)
  if (isMap(map)) {
    const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key)
    const range = (pair?.key as Node | undefined)?.range
    if (range) return lines.linePos(range[0]).line
  }
  return lineOf(doc, lines, parent)
}

/** The keys and indexes leading to a node, from the ancestors `visit` gives. */
function pathOf(chain: readonly unknown[]): (string | number)[] {
  const out: (string | number)[] = []
  chain.forEach((n, i) => {
    if (isPair(n)) out.push(String((n.key as { value?: unknown } | null)?.value ?? ''))
    else if (isSeq(n)) {
      const index = n.items.indexOf(chain[i + 1] as never)
      if (index >= 0) out.push(index)
    }
  })
  return out
}

const VARIABLE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** `${NAME}` and `${NAME:-fallback}` from `env`; the names that are unset and have no fallback. */
export function interpolate(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): { value: string; missing: string[] } {
  const missing: string[] = []
  const out = value.replace(VARIABLE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$${') return '${'
    const v = env[name ?? '']
    if (v !== undefined && v !== '') return v
    if (fallback !== undefined) return fallback
    missing.push(name ?? '')
    return whole
  })
  return { value: out, missing }
}

/** Reads a config file's text; throws NUDGE_ERR_CONFIG listing every problem. */
export function parseConfigFile(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): ConfigFile {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw configError(
      file,
      doc.errors.map((e) => ({
        path: [],
        line: e.linePos?.[0].line ?? null,
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    )
  }
  const issues: Located[] = []
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string') return
      const r = interpolate(node.value, env)
      if (r.missing.length === 0) {
        node.value = r.value
        return
      }
      issues.push({
        path: pathOf([...path, node]),
        line: node.range ? lines.linePos(node.range[0]).line : null,
        message: `${r.missing.map((n) => `\${${n}}`).join(', ')} ${r.missing.length > 1 ? 'are' : 'is'} not set in the environment (give a fallback with \${NAME:-value})`,
      })
    },
  })
  if (issues.length > 0) throw configError(file, issues)

  const data: unknown = doc.contents === null ? {} : doc.toJS()
  const parsed = fileSchema.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          issues.push({
            path: [...path, key],
            line: keyLine(doc, lines, path, key),
            message: 'unknown setting',
          })
      } else {
        issues.push({ path, line: lineOf(doc, lines, path), message: issue.message })
      }
    }
    throw configError(file, issues)
  }
  const values = parsed.data as Record<string, unknown>
  const found: Partial<Record<SettingName, unknown>> = {}
  for (const [name, [first, second]] of Object.entries(FILE_PATHS) as [SettingName, readonly string[]][]) {
    const group = values[first ?? '']
    const v = second === undefined ? group : (group as Record<string, unknown> | undefined)?.[second]
    if (v !== undefined) found[name] = typeof v === 'number' ? String(v) : v
  }
  const workspaces = (values['workspaces'] ?? {}) as Record<string, { channels?: ChannelSettings }>
  return {
    path: file,
    settings: found,
    workspaces: Object.fromEntries(
      Object.entries(workspaces).map(([id, w]) => [id, { channels: w.channels ?? {} }]),
    ),
  }
}

export interface FindOptions {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** --config */
  readonly explicit?: string
  /** NUDGE_CONFIG */
  readonly fromEnv?: string
}

/** The config file named or found, read and checked; undefined when there is none. */
export function readConfigFile(o: FindOptions): ConfigFile | undefined {
  const shown = (abs: string) => {
    const rel = relative(o.cwd, abs)
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs
  }
  let path: string | undefined
  const named = o.explicit ?? o.fromEnv
  if (named !== undefined) {
    path = resolve(o.cwd, named)
    if (!existsSync(path)) {
      const how = o.explicit !== undefined ? '--config' : 'NUDGE_CONFIG'
      throw configError(shown(path), [{ path: [], line: null, message: `not found (given by ${how})` }])
    }
  } else {
    const present = CONFIG_FILE_NAMES.map((n) => resolve(o.cwd, n)).filter((p) => existsSync(p))
    if (present.length > 1) {
      throw configError(present.map(shown).join(' and '), [
        { path: [], line: null, message: 'more than one config file; keep one, or choose with --config' },
      ])
    }
    path = present[0]
  }
  if (!path) return undefined
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw configError(shown(path), [
      { path: [], line: null, message: `cannot be read (${(err as Error).message})` },
    ])
  }
  return parseConfigFile(text, shown(path), o.env)
}
