// The machine a benchmark ran on, recorded beside its numbers: on a shared machine the load
// average says how much of the CPUs the contenders had.
import { cpus, loadavg } from 'node:os'

export interface MachineInfo {
  cpuModel: string
  cores: number
}

export function machineInfo(): MachineInfo {
  const list = cpus()
  return { cpuModel: list[0]?.model ?? 'unknown', cores: list.length }
}

/** The 1, 5 and 15 minute load averages, rounded to hundredths. */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = loadavg().map((v) => Math.round(v * 100) / 100)
  return [one, five, fifteen]
}
