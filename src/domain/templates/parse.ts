// Templates as files: `templates/<name>.yaml`, one message on one channel, each part a
// Liquid string. This checks the document (fields, the parts each channel needs) and the
// Liquid syntax of every part, so a bad template fails at validate time, not at send time.
import { parseDocument } from 'yaml'
import { z } from 'zod'
import type { ErrorIssue } from '../errors.ts'
import { compileTemplate } from './render.ts'
import { TEMPLATE_CHANNELS, type TemplateDefinition } from './types.ts'

export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,79}$/

export const templateSchema = z
  .object({
    name: z.string().regex(TEMPLATE_NAME, 'lower-case letters, digits and dashes'),
    channel: z.enum(TEMPLATE_CHANNELS),
    category: z.enum(['marketing', 'transactional']).default('marketing'),
    topic: z.string().min(1).max(80).optional(),
    description: z.string().optional(),
    from: z.string().min(3).optional(),
    replyTo: z.string().min(3).optional(),
    subject: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
    html: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const need = (field: 'subject' | 'text', why: string) => {
      if (t[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: why })
    }
    switch (t.channel) {
      case 'email':
        need('subject', 'an email template needs a subject')
        if (t.text === undefined && t.html === undefined) {
          ctx.addIssue({ code: 'custom', path: ['html'], message: 'an email template needs html or text' })
        }
        break
      case 'push':
        need('subject', 'a push template needs a subject (the notification title)')
        need('text', 'a push template needs text (the notification body)')
        break
      case 'sms':
      case 'webhook':
        need('text', `a ${t.channel} template needs text`)
        break
      case 'in_app':
        if (t.text === undefined && t.html === undefined) {
          ctx.addIssue({ code: 'custom', path: ['text'], message: 'an in-app template needs text or html' })
        }
        break
      default: {
        const never: never = t.channel
        throw new Error(`unknown channel ${String(never)}`)
      }
    }
    if (t.channel !== 'email' && (t.from !== undefined || t.replyTo !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'from and replyTo apply to email templates only',
      })
    }
  })

export type ParseResult =
  | { readonly ok: true; readonly template: TemplateDefinition }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Checks a template given as data (admin API, or a parsed file). */
export function parseTemplate(raw: unknown): ParseResult {
  const parsed = templateSchema.safeParse(raw)
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    }
  }
  const template = parsed.data as TemplateDefinition
  const compiled = compileTemplate(template)
  if (!compiled.ok)
    return { ok: false, issues: [{ path: compiled.error.part ?? '', message: compiled.error.message }] }
  return { ok: true, template }
}

/** Checks the YAML text of `<name>.yaml`; the name comes from the file unless the file sets it. */
export function parseTemplateFile(fileName: string, source: string): ParseResult {
  const doc = parseDocument(source, { prettyErrors: true })
  if (doc.errors.length > 0) {
    return { ok: false, issues: doc.errors.map((e) => ({ path: '', message: e.message })) }
  }
  const data = doc.toJS() as unknown
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      issues: [{ path: '', message: 'a template file is a YAML mapping (subject:, html:, …)' }],
    }
  }
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '')
  const named = data as Record<string, unknown>
  if (named.name !== undefined && named.name !== base) {
    return { ok: false, issues: [{ path: 'name', message: `must match the file name "${base}"` }] }
  }
  return parseTemplate({ ...named, name: base })
}
