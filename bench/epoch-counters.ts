// Per-epoch scheduler counters of this process's threads and of the whole machine, read from
// /proc (the VM here exposes no hardware counters: perf stat reports cycles, instructions and
// cache misses as <not supported>). They say whether an epoch was slow because its threads
// waited for a CPU (other processes' CPU time, involuntary switches, steal) or ran slower.
import { readdirSync, readFileSync } from 'node:fs'
import type { Callback } from '../src/index'

interface ThreadSample {
  name: string
  runtimeMs: number
  migrations: number
  voluntary: number
  involuntary: number
  cpus: string
}

interface Sample {
  at: number
  threads: Map<string, ThreadSample>
  /** Jiffies (1/100 s) summed over every CPU: busy (user+nice+system+irq+softirq), steal. */
  busy: number
  steal: number
  minorFaults: number
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name.replace('.', '\\.')}\\s*:\\s*([\\d.]+)`, 'm').exec(text)
  return match ? Number(match[1]) : Number.NaN
}

function sample(): Sample {
  const threads = new Map<string, ThreadSample>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const sched = readFileSync(`/proc/self/task/${tid}/sched`, 'utf8')
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8')
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      threads.set(tid, {
        name,
        runtimeMs: field(sched, 'se.sum_exec_runtime'),
        migrations: field(sched, 'se.nr_migrations'),
        voluntary: field(sched, 'nr_voluntary_switches'),
        involuntary: field(sched, 'nr_involuntary_switches'),
        cpus: /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?',
      })
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = cpu
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const minorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
  return { at: performance.now(), threads, busy: user + nice + system + irq + softirq, steal, minorFaults }
}

/** What changed between two samples: per busy thread of ours, and for the machine. */
function difference(a: Sample, b: Sample) {
  const seconds = (b.at - a.at) / 1000
  const threads = [...b.threads.entries()]
    .map(([tid, t]) => {
      const before = a.threads.get(tid)
      return {
        tid: Number(tid),
        name: t.name,
        cpuSeconds: (t.runtimeMs - (before?.runtimeMs ?? 0)) / 1000,
        migrations: t.migrations - (before?.migrations ?? 0),
        voluntarySwitches: t.voluntary - (before?.voluntary ?? 0),
        involuntarySwitches: t.involuntary - (before?.involuntary ?? 0),
        cpusAllowed: t.cpus,
      }
    })
    .filter((t) => t.cpuSeconds > 0.05)
  const ours = threads.reduce((sum, t) => sum + t.cpuSeconds, 0)
  const machineBusy = (b.busy - a.busy) / 100
  return {
    seconds,
    ownCpuSeconds: ours,
    /** CPU seconds that other processes ran on this machine meanwhile (busy time not ours). */
    otherCpuSeconds: Math.max(0, machineBusy - ours),
    stealSeconds: (b.steal - a.steal) / 100,
    minorFaults: b.minorFaults - a.minorFaults,
    threads,
  }
}

export type EpochCounters = ReturnType<typeof difference>

/** A train() callback collecting one `EpochCounters` per epoch into `epochs`. */
export function epochCounters(): Callback & { epochs: EpochCounters[] } {
  let start: Sample | null = null
  const epochs: EpochCounters[] = []
  return {
    name: 'epochCounters',
    epochs,
    onEpochBegin() {
      start = sample()
    },
    onEpochEnd() {
      if (start) epochs.push(difference(start, sample()))
    },
  }
}
