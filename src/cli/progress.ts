// A progress indicator on stderr: a redrawn bar on a terminal, a plain line at each
// tenth otherwise (logs and CI keep readable output).

export interface Progress {
  /** `done` of `total` units (bytes of the file, for imports); `label` says what was done. */
  update(done: number, label: string): void
  finish(label: string): void
}

export function makeProgress(
  total: number,
  out: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  const tty = out.isTTY === true
  let lastDraw = 0
  let lastTenth = -1
  const pct = (done: number) => (total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100)
  return {
    update(done, label) {
      const p = pct(done)
      if (tty) {
        if (now() - lastDraw < 100) return
        lastDraw = now()
        const width = 30
        const filled = Math.round((p / 100) * width)
        out.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p).padStart(3)}%  ${label}\x1b[K`,
        )
        return
      }
      const tenth = Math.floor(p / 10)
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth
        out.write(`${p}%  ${label}\n`)
      }
    },
    finish(label) {
      out.write(tty ? `\r[${'#'.repeat(30)}] 100%  ${label}\x1b[K\n` : `100%  ${label}\n`)
    },
  }
}
