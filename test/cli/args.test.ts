import { expect, it } from 'vitest'
import { flag, parse } from '../../src/cli/args.ts'

it('reads --flag value, --flag=value and boolean flags', () => {
  const a = parse(['--port', '3000', '--inbound-smtp-port=2525', '--role', 'api', 'extra'])
  expect(flag(a, 'port')).toBe('3000')
  expect(flag(a, 'inbound-smtp-port')).toBe('2525')
  expect(flag(a, 'role')).toBe('api')
  expect(a.positionals).toEqual(['extra'])
  const b = parse(['--dry-run', 'journey.yaml', '--verbose'])
  expect(b.flags).toEqual({ 'dry-run': true, verbose: true })
  expect(b.positionals).toEqual(['journey.yaml'])
})
