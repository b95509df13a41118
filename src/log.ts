import pino from 'pino'

export type Logger = pino.Logger

export function makeLogger(level: string = 'info'): Logger {
  return pino({ level, base: { service: 'nudge' } })
}

export const silentLogger: Logger = pino({ level: 'silent' })
