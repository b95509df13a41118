// Reading journeys as code from disk: journey files (YAML or JSON) and the templates they
// use, every problem formatted as "file:line: path: message (hint)". Shared by `validate`
// (offline) and `apply` (which sends nothing unless everything here is clean).
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pathText } from '../domain/journeys/checks.ts'
import { checkCycles } from '../domain/journeys/cycles.ts'
import { formatIssue, lineOf, parseJourneyDocument } from '../domain/journeys/parse.ts'
import type { Journey } from '../domain/journeys/types.ts'
import type { TemplateDefinition } from '../domain/templates/types.ts'
import { loadTemplateFolder } from '../store/template-files.ts'

export interface JourneyFile {
  readonly file: string
  readonly journey: Journey
}

export interface Workspace {
  readonly journeys: readonly JourneyFile[]
  readonly templates: readonly TemplateDefinition[]
  /** The folder templates were read from; null when none was found (names unchecked). */
  readonly templatesDir: string | null
  /** One line per problem; the files are not to be applied when there is any. */
  readonly problems: readonly string[]
}

const JOURNEY_FILE = /\.(ya?ml|json)$/

const exists = async (path: string) => (await stat(path).catch(() => null)) !== null
const isDir = async (path: string) => (await stat(path).catch(() => null))?.isDirectory() ?? false

/** Journey files named by the arguments (a folder means its files, or its journeys/ folder). */
async function journeyFiles(paths: readonly string[], problems: string[]) {
  const files: string[] = []
  const templateCandidates: string[] = []
  for (const path of paths) {
    if (!(await exists(path))) {
      problems.push(`${path}: no such file or folder`)
      continue
    }
    if (!(await isDir(path))) {
      files.push(path)
      templateCandidates.push(join(dirname(path), 'templates'), join(dirname(path), '..', 'templates'))
      continue
    }
    const dir = (await isDir(join(path, 'journeys'))) ? join(path, 'journeys') : path
    const names = (await readdir(dir)).filter((n) => JOURNEY_FILE.test(n)).sort()
    files.push(...names.map((n) => join(dir, n)))
    templateCandidates.push(join(path, 'templates'), join(dir, '..', 'templates'))
  }
  return { files, templateCandidates }
}

export async function loadJourneysAsCode(
  paths: readonly string[],
  templatesFlag: string | undefined,
): Promise<Workspace> {
  const problems: string[] = []
  const { files, templateCandidates } = await journeyFiles(paths, problems)
  // Problems grouped by journey file, in file order, whichever check found them.
  const byFile = new Map<string, string[]>(files.map((f) => [f, []]))

  let templatesDir: string | null = null
  if (templatesFlag !== undefined) {
    if (await isDir(templatesFlag)) templatesDir = templatesFlag
    else problems.push(`${templatesFlag}: no such folder (given by --templates)`)
  } else {
    for (const c of templateCandidates) if (templatesDir === null && (await isDir(c))) templatesDir = c
  }
  const folder = templatesDir ? await loadTemplateFolder(templatesDir) : null
  for (const e of folder?.errors ?? [])
    for (const i of e.issues) problems.push(`${e.file}: ${i.path ? `${i.path}: ` : ''}${i.message}`)
  const known = folder
    ? {
        templates: [...folder.templates.keys()],
        templateChannels: Object.fromEntries([...folder.templates].map(([n, t]) => [n, t.channel])),
      }
    : {}

  const journeys: JourneyFile[] = []
  const byId = new Map<string, string>()
  const texts = new Map<string, string>()
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    const parsed = parseJourneyDocument(text, file, known)
    if (!parsed.ok) {
      byFile.get(file)?.push(...parsed.errors.map(formatIssue))
      continue
    }
    const first = byId.get(parsed.journey.id)
    if (first !== undefined) {
      byFile
        .get(file)
        ?.push(
          `${file}: id: journey id ${parsed.journey.id} is also used by ${first} (give each journey its own id)`,
        )
      continue
    }
    byId.set(parsed.journey.id, file)
    texts.set(parsed.journey.id, text)
    journeys.push({ file, journey: parsed.journey })
  }
  for (const { journeyId, issue } of checkCycles(journeys.map((j) => j.journey))) {
    const file = byId.get(journeyId) ?? journeyId
    const line = lineOf(texts.get(journeyId) ?? '', issue.path)
    byFile.get(file)?.push(
      formatIssue({
        file,
        line,
        column: null,
        path: pathText(issue.path),
        message: issue.message,
        hint: issue.hint,
      }),
    )
  }
  problems.push(...[...byFile.values()].flat())
  return { journeys, templates: folder ? [...folder.templates.values()] : [], templatesDir, problems }
}
