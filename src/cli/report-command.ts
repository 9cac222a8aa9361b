import { parseArgs } from 'node:util'
import { reportInputFromRun } from '../report/from-run'
import { writeReport } from '../report/write-report'
import { UsageError } from './args'

export const REPORT_HELP = `Usage: convtorch report RUN_DIR [options]

Rebuilds RUN_DIR/report.html and its PNGs (loss, accuracy, confusion) from the run's files,
also for a run that was interrupted or resumed.

  --device D          where the checkpoint is evaluated for the misclassified grid (cpu)
  --cache-dir DIR     download cache, where the run's data was a URL
  --json              the files written, as one JSON object
`

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { device: { type: 'string' }, 'cache-dir': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    process.stdout.write(REPORT_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError(`convtorch report: expected one RUN_DIR, got ${positionals.length === 0 ? 'none' : positionals.map((p) => `'${p}'`).join(' ')}`)
  const [runDir] = positionals
  const files = await writeReport(runDir, await reportInputFromRun(runDir, { device: values.device, cacheDir: values['cache-dir'] }))
  process.stdout.write(values.json ? `${JSON.stringify({ files })}\n` : files.map((f) => `Wrote ${f}\n`).join(''))
  return 0
}
