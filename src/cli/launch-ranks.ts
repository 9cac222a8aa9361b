// `convtorch train --nproc-per-node N`: this process becomes a small torchrun. It picks a free
// loopback port for rank 0's store, starts one process per rank (ranks are processes: each
// has its own compute thread, see DESIGN.md), splits the CPU threads between them, and ends
// the others as soon as one fails, naming it.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { availableParallelism, constants } from 'node:os'
import { createInterface } from 'node:readline'

/** Grace given to the surviving ranks between SIGTERM (they checkpoint and stop) and SIGKILL. */
const GRACE_MS = 10_000

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** The command line without `--nproc-per-node N` (or `=N`): what every rank runs. */
export function rankArguments(args: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--nproc-per-node') i++
    else if (!args[i].startsWith('--nproc-per-node=')) out.push(args[i])
  }
  return out
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`
}

/** Copies a rank's stderr line by line, prefixed with its rank, so interleaved lines stay readable. */
function prefixed(child: ChildProcess, rank: number): void {
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[rank ${rank}] ${line}\n`))
}

export async function launchRanks(nproc: number, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const port = await freeLoopbackPort()
  // libtorch sizes its intra-op pool from OMP_NUM_THREADS: N ranks share the cores.
  const threads = env.OMP_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / nproc)))
  const script = process.argv[1]
  const children = Array.from({ length: nproc }, (_, rank) => {
    const rankEnv: NodeJS.ProcessEnv = { ...env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_WORLD_SIZE: String(nproc), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), OMP_NUM_THREADS: threads }
    delete rankEnv.TORCHELASTIC_USE_AGENT_STORE
    // Rank 0 owns the terminal (its progress bar and summary); the others only report errors.
    const child = spawn(process.execPath, [...process.execArgv, script, ...rankArguments(args)], { env: rankEnv, stdio: ['inherit', rank === 0 ? 'inherit' : 'ignore', 'pipe'] })
    prefixed(child, rank)
    return child
  })
  // A terminal's Ctrl-C reaches every rank itself (one process group); kill and hangup are
  // passed on, so each rank checkpoints and stops as a single run would.
  const forward = (signal: NodeJS.Signals) => children.forEach((c) => c.exitCode === null && c.kill(signal))
  const onInterrupt = () => {}
  const onTerm = () => forward('SIGTERM')
  const onHup = () => forward('SIGHUP')
  process.on('SIGINT', onInterrupt)
  process.on('SIGTERM', onTerm)
  process.on('SIGHUP', onHup)
  try {
    return await new Promise<number>((resolve) => {
      let failed: { rank: number; code: number } | null = null
      let running = nproc
      children.forEach((child, rank) => {
        child.on('exit', (code, signal) => {
          running--
          const status = code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)
          if (status !== 0 && failed === null) {
            failed = { rank, code: status }
            process.stderr.write(`convtorch: rank ${rank} of ${nproc} ${describeExit(code, signal)}; stopping the other ranks\n`)
            forward('SIGTERM')
            setTimeout(() => forward('SIGKILL'), GRACE_MS).unref()
          }
          if (running === 0) resolve(failed?.code ?? 0)
        })
      })
    })
  } finally {
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onTerm)
    process.off('SIGHUP', onHup)
  }
}
