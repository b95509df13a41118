// Minimal argument parsing: flags (--x v, --x=v, --flag) and positionals. A flag
// takes the next word as its value unless it is one of the switches below, which
// never take one (so `nudge keys --direct list` reads as intended).

export interface Args {
  readonly positionals: readonly string[]
  readonly flags: Readonly<Record<string, string | boolean | undefined>>
}

/** Flags that never take a value, so `--dry-run file.yaml` keeps file.yaml as a positional. */
const SWITCHES = new Set(['direct', 'json', 'help', 'force', 'dry-run', 'yes', 'version', 'publish'])

export function parse(argv: readonly string[]): Args {
  const positionals: string[] = []
  const flags: Record<string, string | boolean> = {}
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!
    if (word === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!word.startsWith('--') || word === '--') {
      positionals.push(word)
      continue
    }
    const eq = word.indexOf('=')
    if (eq !== -1) {
      flags[word.slice(2, eq)] = word.slice(eq + 1)
      continue
    }
    const name = word.slice(2)
    const next = argv[i + 1]
    if (!SWITCHES.has(name) && next !== undefined && !next.startsWith('--')) {
      flags[name] = next
      i++
    } else flags[name] = true
  }
  return { positionals, flags }
}

export function flag(args: Args, name: string): string | undefined {
  const v = args.flags[name]
  return typeof v === 'string' ? v : undefined
}

export class UsageError extends Error {}
