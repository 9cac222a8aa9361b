// convtorch doctor: what a bug report needs to say about this machine.
import type { Command } from '@commander-js/extra-typings'
import { describeAttempts, findLibtorch, REQUIRED_TORCH } from '../libtorch'
import { libtorchChoice } from '../native'
import { runtimeInfo } from '../runtime'
import { VERSION } from './version'

/** Everything a bug report needs; exit code 1 when convtorch cannot run here. */
export function doctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('what convtorch found here: libtorch, CUDA devices, cuDNN, threads (exit code 1 where it cannot run)')
    .option('--json', 'one JSON object')
    .action((options) => {
      process.exitCode = doctor(options.json ?? false)
    })
}

function doctor(json: boolean): number {
  const report: Record<string, unknown> = { convtorch: VERSION, node: process.version, platform: `${process.platform}-${process.arch}` }
  let usable = false
  try {
    const info = runtimeInfo()
    const choice = libtorchChoice()
    usable = info.torchVersion.startsWith(`${REQUIRED_TORCH}.`)
    Object.assign(report, { libtorchSource: choice?.source, libtorchVersion: info.torchVersion, libtorchDir: info.libtorchDir, ...info })
  } catch (error) {
    report.error = (error as Error).message
    report.lookup = findLibtorch().attempts
  }
  report.usable = usable
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`)
    return usable ? 0 : 1
  }
  const line = (key: string, value: unknown) => process.stdout.write(`${key.padEnd(18)} ${value ?? '-'}\n`)
  line('convtorch', report.convtorch)
  line('node', `${report.node} (${report.platform})`)
  if (report.error) {
    line('libtorch', 'NOT USABLE')
    process.stdout.write(`${report.error}\n`)
    process.stdout.write(`lookup:\n${describeAttempts(findLibtorch().attempts)}\n`)
    return 1
  }
  line('libtorch', `${report.libtorchVersion} in ${report.libtorchDir} (${report.libtorchSource ?? 'build RUNPATH'})`)
  line('threads', report.threads)
  line('CUDA library', `${report.cudaLibrary}: ${report.cudaLibraryDetail}`)
  line('CUDA available', report.cudaAvailable ? `yes, ${report.cudaDeviceCount} device(s)` : `no (${report.cudaAbsenceReason})`)
  for (const device of (report.cudaDevices as { index: number; name: string; totalMemoryBytes: number }[]) ?? []) {
    line(`  cuda:${device.index}`, `${device.name}, ${(device.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`)
  }
  const cudnn = report.cudnnVersion as number | null | undefined
  line('cuDNN', cudnn ? `${Math.floor(cudnn / 10000)}.${Math.floor((cudnn % 10000) / 100)}.${cudnn % 100}` : null)
  // libconvtorch_cuda.so: CUDA graphs (train's cudaGraph) and NCCL groups.
  line('graphs, NCCL', report.cudaExtensions ?? `unavailable (${report.cudaExtensionsAbsence})`)
  line('usable', usable ? 'yes' : 'no')
  return usable ? 0 : 1
}
