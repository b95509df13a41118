import { expect, it } from 'vitest'
import { parse } from '../../src/cli/args.ts'

it('reads flag values, switches and positionals in any order', () => {
  expect(parse(['create', '--kind', 'write', '--name=ci bot', '--direct', 'extra'])).toEqual({
    positionals: ['create', 'extra'],
    flags: { kind: 'write', name: 'ci bot', direct: true },
  })
  expect(parse(['--direct', 'list', '--port', '4000', '--json'])).toEqual({
    positionals: ['list'],
    flags: { direct: true, port: '4000', json: true },
  })
  expect(parse(['--out', '--', '--weird-file'])).toEqual({
    positionals: ['--weird-file'],
    flags: { out: true },
  })
})
