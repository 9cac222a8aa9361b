// convtorch report: rebuild a run's report.html and PNGs from its files.
import { Option, type Command } from '@commander-js/extra-typings'
import { defaultCacheDir } from '../data/sources'
import { reportInputFromRun } from '../report/from-run'
import { writeReport } from '../report/write-report'
import { deviceOption } from './flags'

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description("rebuild a run directory's report.html and PNGs (loss, accuracy, confusion) from its files, also for an interrupted or resumed run")
    .argument('<run-dir>', 'the run directory')
    .addOption(deviceOption().default('cpu', 'cpu: where the checkpoint is evaluated for the misclassified grid'))
    .addOption(new Option('--cache-dir <dir>', "download cache, where the run's data was a URL").default(defaultCacheDir()))
    .option('--json', 'the files written, as one JSON object')
    .addHelpText('after', '\nExample:\n  convtorch report runs/latest')
    .action(async (runDir, options) => {
      const files = await writeReport(runDir, await reportInputFromRun(runDir, { device: options.device, cacheDir: options.cacheDir }))
      process.stdout.write(options.json ? `${JSON.stringify({ files })}\n` : files.map((f) => `Wrote ${f}\n`).join(''))
    })
}
