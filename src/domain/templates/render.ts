// Renders templates with LiquidJS in a sandbox: no file system (includes, renders and
// layouts find nothing), no prototype walking (only own properties are readable, so no way
// to `constructor` or `process`), bounded template size, render time and memory. A missing
// variable is an error naming it, unless the template says `| default: "…"`.
import { convert } from 'html-to-text'
import { Liquid, type Template as LiquidTemplate } from 'liquidjs'
import type {
  PartName,
  RenderedParts,
  RenderResult,
  TemplateContext,
  TemplateDefinition,
  TemplateError,
} from './types.ts'

export const LIMITS = {
  /** Characters of Liquid source per part. */
  sourceChars: 200_000,
  /** Milliseconds of rendering per part: a loop over a huge range stops here. */
  renderMs: 500,
  /** Characters allocated by filters and loops per render. */
  memory: 5_000_000,
  /** Rendered size per part (bytes of UTF-16, close enough for a guard). */
  output: { subject: 998, text: 256_000, html: 512_000, url: 4_096 },
} as const

function engine(escapeHtml: boolean): Liquid {
  return new Liquid({
    // An empty in-memory file system: {% include %}, {% render %} and {% layout %} cannot
    // reach the disk; they fail with "Failed to lookup".
    templates: {},
    strictVariables: true,
    // …except under `default` and inside `if`/`unless`, where absence is what is being tested.
    lenientIf: true,
    strictFilters: true,
    ownPropertyOnly: true,
    parseLimit: LIMITS.sourceChars,
    renderLimit: LIMITS.renderMs,
    memoryLimit: LIMITS.memory,
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
  })
}

// HTML parts escape every output, so a trait holding "<script>" shows as text. `| raw` opts out.
const htmlEngine = engine(true)
const plainEngine = engine(false)

export interface CompiledTemplate {
  readonly definition: TemplateDefinition
  readonly parts: Partial<Record<PartName, LiquidTemplate[]>>
}

function toError(template: string, part: PartName, err: unknown): TemplateError {
  const e = err as Error & { token?: { getPosition?: () => [number, number] } }
  const raw = e.message ?? String(err)
  const variable = /undefined variable: ([^\s,]+)/.exec(raw)?.[1]
  const lineMatch = /line:(\d+)/.exec(raw)
  const line = lineMatch ? Number(lineMatch[1]) : undefined
  // Strip LiquidJS's position suffix and the source excerpt it appends: we give them as fields.
  const first = (raw.split('\n')[0] ?? raw).replace(/, line:\d+, col:\d+$/, '')
  const message = variable
    ? `the variable "${variable}" is missing in the ${part} of template "${template}" (add | default: "…" if it may be absent)`
    : `${part} of template "${template}": ${first}`
  return { template, part, message, ...(variable ? { variable } : {}), ...(line ? { line } : {}) }
}

/** Parses every part once: syntax errors, unknown filters and oversize sources show up here. */
export function compileTemplate(
  definition: TemplateDefinition,
): { ok: true; template: CompiledTemplate } | { ok: false; error: TemplateError } {
  const parts: Partial<Record<PartName, LiquidTemplate[]>> = {}
  for (const part of ['subject', 'text', 'html', 'url'] as const) {
    const source = definition[part]
    if (source === undefined) continue
    try {
      parts[part] = (part === 'html' ? htmlEngine : plainEngine).parse(source)
    } catch (err) {
      return { ok: false, error: toError(definition.name, part, err) }
    }
  }
  return { ok: true, template: { definition, parts } }
}

/** The text part a person reads when the client shows no HTML. */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  })
}

export function renderTemplate(compiled: CompiledTemplate, context: TemplateContext): RenderResult {
  const name = compiled.definition.name
  const out: Partial<Record<PartName, string>> = {}
  // A plain object copy: LiquidJS reads own properties only, and frozen class instances
  // from callers would hide their fields.
  const scope = JSON.parse(JSON.stringify(context)) as Record<string, unknown>
  for (const part of ['subject', 'text', 'html', 'url'] as const) {
    const tpl = compiled.parts[part]
    if (!tpl) continue
    let value: string
    try {
      value = (part === 'html' ? htmlEngine : plainEngine).renderSync(tpl, scope) as string
    } catch (err) {
      return { ok: false, error: toError(name, part, err) }
    }
    if (part === 'subject' || part === 'url') value = value.replace(/\s+/g, ' ').trim()
    if (value.length > LIMITS.output[part]) {
      return {
        ok: false,
        error: {
          template: name,
          part,
          message: `${part} of template "${name}" renders to ${value.length} characters, over the limit of ${LIMITS.output[part]}`,
        },
      }
    }
    out[part] = value
  }
  if (out.url !== undefined && out.url !== '' && !/^https?:\/\//.test(out.url)) {
    return {
      ok: false,
      error: {
        template: name,
        part: 'url',
        message: `url of template "${name}" is not an http(s) URL: ${out.url}`,
      },
    }
  }
  const text = out.text ?? (out.html !== undefined ? htmlToText(out.html) : '')
  const parts: RenderedParts = {
    text,
    ...(out.subject !== undefined ? { subject: out.subject } : {}),
    ...(out.html !== undefined ? { html: out.html } : {}),
    ...(out.url ? { url: out.url } : {}),
  }
  return { ok: true, parts }
}
