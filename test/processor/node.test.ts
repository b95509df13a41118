// The processor inside a running node: started with the workers, reflected by
// readiness, stopped after the HTTP server on shutdown.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { silentLogger } from '../../src/log.ts'
import { startNode } from '../../src/runtime/node.ts'
import { profileOf, send } from './helpers.ts'

it('a node with the worker role processes events and is ready only while its processor runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nudge-node-'))
  try {
    const node = await startNode(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', NUDGE_DATA_DIR: dir }),
      silentLogger,
    )
    expect(node.processor?.isHealthy()).toBe(true)
    const ready = await node.app?.inject({ method: 'GET', url: '/readyz' })
    expect(ready?.statusCode).toBe(200)

    await send(node.db, { type: 'identify', userId: 'node-user', traits: { plan: 'pro' } })
    for (let i = 0; i < 400 && !(await profileOf(node.db, 'user_id', 'node-user')); i++)
      await new Promise((r) => setTimeout(r, 10))
    expect((await profileOf(node.db, 'user_id', 'node-user'))?.traits).toEqual({ plan: 'pro' })

    await node.stop()
    expect(node.processor?.isHealthy()).toBe(false)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
