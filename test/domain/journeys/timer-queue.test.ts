import { expect, it } from 'vitest'
import { TimerQueue } from '../../../src/domain/journeys/timer-queue.ts'

const at = (hhmm: string) => new Date(`2026-01-05T${hhmm}:00Z`)

it('gives due timers in time order, ties in scheduling order, without the cancelled or replaced ones', () => {
  const q = new TimerQueue()
  q.schedule('c', at('12:00'), 'run-c')
  q.schedule('a', at('10:00'), 'run-a')
  q.schedule('b1', at('11:00'), 'run-b')
  q.schedule('b2', at('11:00'), 'run-b')
  q.schedule('gone', at('09:00'), 'run-x')
  q.cancel('gone')
  q.schedule('moved', at('09:30'), 'run-m')
  q.schedule('moved', at('11:30'), 'run-m') // re-armed later: the 09:30 entry no longer counts
  const taken: string[] = []
  for (let t = q.takeDue(at('11:30'), false); t; t = q.takeDue(at('11:30'), false))
    taken.push(`${t.id}@${t.at.toISOString().slice(11, 16)}`)
  expect(taken).toEqual(['a@10:00', 'b1@11:00', 'b2@11:00'])
  expect(q.takeDue(at('11:30'), true)?.id).toBe('moved')
  expect(q.takeDue(at('11:59'), true)).toBeNull()
  expect(q.takeDue(at('12:00'), true)?.runId).toBe('run-c')
  expect(q.takeDue(at('23:00'), true)).toBeNull()
})
