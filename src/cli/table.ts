// Plain-text tables for the terminal: columns padded to their widest cell, numbers right-aligned.

export type Align = 'left' | 'right'

/** Rows of cells (the first row is the header) as aligned lines, with a rule under the header. */
export function formatTable(rows: string[][], align: Align[] = []): string[] {
  const columns = Math.max(...rows.map((r) => r.length))
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const line = (row: string[]) =>
    widths
      .map((width, c) => ((align[c] ?? (c === 0 ? 'left' : 'right')) === 'left' ? (row[c] ?? '').padEnd(width) : (row[c] ?? '').padStart(width)))
      .join('  ')
      .trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (columns - 1))
  return [line(rows[0]), rule, ...rows.slice(1).map(line)]
}
