// Reads a folder of template files (`<name>.yaml`). The file-system side of templates; the
// checking is the domain's (parseTemplateFile), so the admin API and the CLI agree.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ErrorIssue } from '../domain/errors.ts'
import { parseTemplateFile } from '../domain/templates/parse.ts'
import type { TemplateDefinition } from '../domain/templates/types.ts'

export interface TemplateFolder {
  readonly templates: ReadonlyMap<string, TemplateDefinition>
  /** Problems by file; a folder with any is not to be applied. */
  readonly errors: readonly { readonly file: string; readonly issues: readonly ErrorIssue[] }[]
}

export async function loadTemplateFolder(dir: string): Promise<TemplateFolder> {
  const templates = new Map<string, TemplateDefinition>()
  const errors: { file: string; issues: readonly ErrorIssue[] }[] = []
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort()
  for (const name of names) {
    const file = join(dir, name)
    const parsed = parseTemplateFile(name, await readFile(file, 'utf8'))
    if (!parsed.ok) errors.push({ file, issues: parsed.issues })
    else if (templates.has(parsed.template.name)) {
      errors.push({
        file,
        issues: [{ path: 'name', message: `a template "${parsed.template.name}" exists twice` }],
      })
    } else templates.set(parsed.template.name, parsed.template)
  }
  return { templates, errors }
}
