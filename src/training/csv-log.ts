// The one module that owns the run's CSV files: a header line, then rows appended as the run
// goes; a resumed run first cuts the rows past its checkpoint, so the file continues it exactly.
import { appendFileSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { DatasetError } from '../errors'

export type Cell = number | string | null

function cell(value: Cell): string {
  if (value === null) return ''
  const text = String(value)
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

const line = (cells: readonly Cell[]) => `${cells.map(cell).join(',')}\n`

/** Splits one CSV line (quoted cells allowed); the files hold no line breaks inside cells. */
function cellsOf(text: string): string[] {
  const cells: string[] = []
  const pattern = /("(?:[^"]|"")*"|[^,]*)(,|$)/g
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const raw = match[1]
    cells.push(raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw)
    if (match[2] === '') break
  }
  return cells
}

/** The header and rows of CSV text; an unterminated last line (torn by a crash) is dropped. */
export function parseCsv(text: string, path: string): { header: string[]; rows: Array<Record<string, string>> } {
  // Rows are appended as whole lines: whatever follows the last newline is torn or empty.
  const complete = text.split('\n').slice(0, -1)
  if (complete.length === 0) throw new DatasetError(`${path}: expected a header line, got ${text === '' ? 'an empty file' : 'no complete line'}`)
  const header = cellsOf(complete[0])
  return { header, rows: complete.slice(1).map((row) => Object.fromEntries(cellsOf(row).map((value, i) => [header[i] ?? `column${i}`, value]))) }
}

export async function readCsv(path: string): Promise<Array<Record<string, string>>> {
  return parseCsv(await readFile(path, 'utf8'), path).rows
}

export class CsvLog {
  constructor(
    readonly path: string,
    readonly columns: readonly string[],
  ) {}

  /** A fresh run: the header alone (an older file of the same name is replaced). */
  async start(): Promise<void> {
    await this.replace([])
  }

  /** A resumed run: keeps the rows `keep` accepts; a missing file or another header starts afresh. */
  async resume(keep: (row: Record<string, string>) => boolean): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch(() => null)
    const parsed = text === null || !text.startsWith(line(this.columns)) ? null : parseCsv(text, this.path)
    await this.replace(parsed ? parsed.rows.filter(keep).map((row) => this.columns.map((c) => row[c] ?? null)) : [])
  }

  /** Appends whole lines in one write, so a crash leaves at most one torn line at the end. */
  append(rows: readonly (readonly Cell[])[]): void {
    if (rows.length > 0) appendFileSync(this.path, rows.map(line).join(''))
  }

  private async replace(rows: readonly (readonly Cell[])[]): Promise<void> {
    await writeFile(`${this.path}.partial`, line(this.columns) + rows.map(line).join(''))
    await rename(`${this.path}.partial`, this.path)
  }
}
