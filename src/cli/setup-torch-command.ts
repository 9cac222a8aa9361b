// convtorch setup-torch: runs the installer shipped with the package (scripts/setup-torch.mjs).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { Command } from '@commander-js/extra-typings'
import { UsageError } from './flags'

export function setupTorchCommand(program: Command): void {
  program
    .command('setup-torch')
    .description("install PyTorch 2.11.0 from PyPI for convtorch, into its own .torch/venv")
    .option('--light', 'torch without its dependencies plus the two NVIDIA runtime wheels libtorch_cpu.so needs (CPU only, about 1.3 GB on disk)')
    .option('--full', 'torch with every CUDA dependency (the default; about 4.6 GB)')
    .action((options) => {
      if (options.light && options.full) throw new UsageError('--light and --full exclude each other')
      const script = join(__dirname, '..', '..', '..', 'scripts', 'setup-torch.mjs')
      const flags = [...(options.light ? ['--light'] : []), ...(options.full ? ['--full'] : [])]
      process.exitCode = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' }).status ?? 1
    })
}
