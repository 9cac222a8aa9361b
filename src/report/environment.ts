// Where a run ran: device, libtorch, convtorch, Node, CPU and GPUs; recorded when training
// begins (environment.json) so a report rebuilt elsewhere still names the machine of the run.
import { cpus, platform, arch } from 'node:os'
import { runtimeInfo } from '../runtime'

const VERSION: string = require('../../../package.json').version

export interface Environment {
  device: string
  torch: string
  convtorch: string
  node: string
  platform: string
  cpu: string
  cpuCount: number
  threads: number
  gpus: string[]
}

export function currentEnvironment(device: string): Environment {
  const info = runtimeInfo()
  const cores = cpus()
  return {
    device,
    torch: info.torchVersion,
    convtorch: VERSION,
    node: process.version,
    platform: `${platform()}-${arch()}`,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cpuCount: cores.length,
    threads: info.threads,
    gpus: info.cudaDevices.map((d) => `${d.name} (${(d.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB)`),
  }
}
