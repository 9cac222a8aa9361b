import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { distributedFromEnv, InvalidArgumentError, rankDevice, shardOrder } from '../src/index'
import { resolveDistributed } from '../src/training/distributed'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')

test('shardOrder takes the strided, padded shards of torch DistributedSampler', (t) => {
  // torch: [list(DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False)) for r in range(4)]
  const expected = [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
  const order = Uint32Array.from({ length: 10 }, (_, i) => i)
  for (let rank = 0; rank < 4; rank++) t.deepEqual(Array.from(shardOrder(order, rank, 4)), expected[rank], `rank ${rank}`)
  // A permuted epoch is sharded by position, not by value.
  t.deepEqual(Array.from(shardOrder(Uint32Array.from([9, 3, 5, 1]), 1, 2)), [3, 1])
})

test("distributedFromEnv reads torchrun's variables, and its agent's store makes every rank a client", (t) => {
  t.is(distributedFromEnv({}), null)
  const torchrun = { RANK: '1', WORLD_SIZE: '2', LOCAL_RANK: '1', MASTER_ADDR: '10.0.0.5', MASTER_PORT: '29400', TORCHELASTIC_USE_AGENT_STORE: 'True' }
  t.deepEqual(distributedFromEnv(torchrun), { rank: 1, worldSize: 2, masterAddr: '10.0.0.5', masterPort: 29400, hostStore: false, timeoutSeconds: undefined, localRank: 1 })
  t.is(distributedFromEnv({ RANK: '0', WORLD_SIZE: '2' })?.hostStore, undefined, 'rank 0 hosts the store by default')
  const error = t.throws(() => distributedFromEnv({ RANK: '0' }), { instanceOf: InvalidArgumentError })
  t.regex(error.message, /\$WORLD_SIZE/)
  t.throws(() => distributedFromEnv({ RANK: 'x', WORLD_SIZE: '2' }), { message: /\$RANK must be a whole number, got 'x'/ })
})

test("distributed options: DDP's 25 MiB buckets by default, and a bad value names its field", (t) => {
  t.is(resolveDistributed({ rank: 0, worldSize: 2 }, 'cpu').bucketCapMb, 25)
  t.is(resolveDistributed({ rank: 1, worldSize: 2, bucketCapMb: 0.5 }, 'cpu').bucketCapMb, 0.5)
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ rank: 0, worldSize: 2, bucketCapMb: 0 }, /distributed\.bucketCapMb must be a number of MiB > 0, got 0/],
    [{ rank: 0, worldSize: 2, bucketCapMb: '25' }, /distributed\.bucketCapMb must be a number of MiB > 0, got '25'/],
    [{ rank: 2, worldSize: 2 }, /distributed\.rank must be an integer in \[0, 2\), got 2/],
    [{ rank: 0, worldSize: 2, backend: 'nccl' }, /distributed\.backend must be 'gloo' on device cpu/],
  ]
  for (const [given, message] of bad) {
    const error = t.throws(() => resolveDistributed(given as never, 'cpu'), { instanceOf: InvalidArgumentError })
    t.regex(error!.message, message)
  }
})

test('LOCAL_RANK picks the CUDA device of a rank, as torch.cuda.set_device(LOCAL_RANK) does', (t) => {
  t.is(rankDevice('cuda', 1, true), 'cuda:1')
  t.is(rankDevice('auto', 3, true), 'cuda:3')
  t.is(rankDevice('auto', 3, false), 'auto', 'auto without CUDA stays auto (the CPU)')
  t.is(rankDevice('cuda:0', 1, true), 'cuda:0', 'a device named in full is kept')
  t.is(rankDevice('cpu', 1, true), 'cpu')
  t.is(rankDevice('cuda', null, true), 'cuda', 'without LOCAL_RANK nothing changes')
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; onStdout?: (text: string, pid: number) => void } = {}): Promise<Run> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
    options.onStdout?.(stdout, child.pid!)
  })
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
}

function events(stdout: string): Array<Record<string, any>> {
  return stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
}

// One process with batch 128 and two ranks with batch 64 each train on the same examples:
// a strided shard's batch k on both ranks together is the single run's batch k.
const common = ['--epochs', '3', '--shuffle', 'seeded', '--init', 'default', '--momentum', '0.9', '--no-report', '--json']

test.serial('two ranks started by --nproc-per-node 2 learn like one process with their joint batch', async (t) => {
  const data = await smallMnistDir(2_000, 500)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-dist-'))
  const single = await run(process.execPath, [cli, 'train', '--data', data, '--batch-size', '128', '--out', join(out, 'one'), ...common])
  t.is(single.code, 0, single.stderr)
  const pair = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--data', data, '--batch-size', '64', '--out', join(out, 'two'), ...common])
  t.is(pair.code, 0, pair.stderr)
  const one = events(single.stdout)
  const two = events(pair.stdout)
  t.is(two.filter((e) => e.event === 'start').length, 1, 'only rank 0 reports')
  t.is(two.find((e) => e.event === 'start')!.batchesPerEpoch, 16, "each rank's 1,000 examples in batches of 64")
  const endOf = (events: Array<Record<string, any>>) => events.find((e) => e.event === 'end')!.test
  t.true(endOf(one).accuracy > 0.7, `the single run learned (${endOf(one).accuracy})`)
  t.true(Math.abs(endOf(two).accuracy - endOf(one).accuracy) <= 0.01, `${endOf(two).accuracy} vs ${endOf(one).accuracy}`)
  t.log(`test accuracy: one process ${endOf(one).accuracy}, two ranks ${endOf(two).accuracy}`)
  const lossesOf = (events: Array<Record<string, any>>) => events.filter((e) => e.event === 'epoch').map((e) => e.trainLoss)
  for (const [i, loss] of lossesOf(two).entries()) t.true(Math.abs(loss - lossesOf(one)[i]) < 1e-3, `epoch ${i + 1}: ${loss} vs ${lossesOf(one)[i]}`)
  t.true(existsSync(join(out, 'two', 'checkpoint')), 'rank 0 wrote the checkpoint')
  // The ranks shared the test evaluations (each its half of the batches), the last epoch's and
  // the final one: the final model evaluated whole, in one process, gives the same metrics.
  const judged = await run(process.execPath, [cli, 'eval', '--model', join(out, 'two'), '--data', data, '--json'])
  t.is(judged.code, 0, judged.stderr)
  const whole = JSON.parse(judged.stdout)
  t.is(whole.count, 500)
  const lastEpoch = two.filter((e) => e.event === 'epoch').at(-1)!
  for (const [what, shared] of [['last epoch', { accuracy: lastEpoch.testAccuracy, loss: lastEpoch.testLoss }], ['final', endOf(two)]] as const) {
    t.is(shared.accuracy, whole.accuracy, `${what}: accuracy of the shared evaluation`)
    t.true(Math.abs(shared.loss - whole.loss) < 1e-6, `${what}: loss ${shared.loss} of the shared evaluation vs ${whole.loss}`)
  }
})

test.serial('a distributed run resumes from its checkpoint with the same world', async (t) => {
  const data = await smallMnistDir(1_000, 200)
  const out = join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')
  // 10 KiB buckets: the seed net's gradients go in several, sent during the backward pass.
  const first = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--bucket-cap-mb', '0.01', '--data', data, '--batch-size', '64', '--out', out, '--epochs', '1', '--no-report', '--json'])
  t.is(first.code, 0, first.stderr)
  const again = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--resume', out, '--epochs', '2', '--json'])
  t.is(again.code, 0, again.stderr)
  const start = events(again.stdout).find((e) => e.event === 'start')!
  t.deepEqual(start.resumedFrom?.epoch, 1)
  t.deepEqual(events(again.stdout).filter((e) => e.event === 'epoch').map((e) => e.epoch), [2])
})

/** The pid of the launcher's child that is rank `rank` (read from its environment). */
async function childRank(parent: number, rank: number): Promise<number | null> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue
      const environ = (await readFile(`/proc/${entry}/environ`, 'utf8')).split('\0')
      if (environ.includes(`RANK=${rank}`)) return Number(entry)
    } catch {
      // The process ended while we looked.
    }
  }
  return null
}

test.serial('a killed rank ends the run with an error naming it', async (t) => {
  const data = await smallMnistDir(4_000, 200)
  let killed = false
  const result = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--data', data, '--batch-size', '16', '--epochs', '20', '--no-report', '--json', '--dist-timeout', '30', '--out', join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')], {
    onStdout: (stdout, pid) => {
      if (killed || !stdout.includes('"event":"batch"')) return
      killed = true
      void childRank(pid, 1).then((victim) => (victim === null ? t.fail('rank 1 not found') : process.kill(victim, 'SIGKILL')))
    },
  })
  t.true(killed)
  t.not(result.code, 0)
  t.regex(result.stderr, /convtorch: rank 1 of 2 was killed by SIGKILL; stopping the other ranks/)
  t.notRegex(result.stdout, /"event":"end"/)
})

test.serial('a hung rank ends the run within the timeout: its peer names it from the heartbeats, the launcher ends it', async (t) => {
  const data = await smallMnistDir(4_000, 200)
  let stopped = false
  const result = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--data', data, '--batch-size', '16', '--epochs', '20', '--no-report', '--json', '--dist-timeout', '3', '--out', join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')], {
    onStdout: (stdout, pid) => {
      if (stopped || !stdout.includes('"event":"batch"')) return
      stopped = true
      void childRank(pid, 1).then((victim) => (victim === null ? t.fail('rank 1 not found') : process.kill(victim, 'SIGSTOP')))
    },
  })
  t.true(stopped)
  t.is(result.code, 1)
  t.regex(result.stderr, /\[rank 0\] convtorch: distributed \(rank 0 of 2\): allreduce: .*Timed out waiting 3000ms/)
  t.log(result.stderr.split('\n').find((line) => line.includes('heartbeat')))
  t.regex(result.stderr, /rank 1 stopped: no heartbeat for \d+\.\d s \(its last one reported step \d+; this rank is at step \d+\)/)
  t.regex(result.stderr, /convtorch: rank 0 of 2 exited with code 1; stopping the other ranks/)
})

test.serial('the torchrun route: torchrun --nproc-per-node 2 --no-python runs two ranks of convtorch train', async (t) => {
  const python = process.env.CONVTORCH_PYTHON
  t.truthy(python, 'CONVTORCH_PYTHON is set by scripts/with-libtorch.mjs')
  const torchrun = join(dirname(python!), 'torchrun')
  t.true(existsSync(torchrun), `${torchrun} exists (the project's torch environment)`)
  const data = await smallMnistDir(1_000, 200)
  const out = join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')
  const result = await run(torchrun, ['--nproc-per-node', '2', '--no-python', process.execPath, cli, 'train', '--data', data, '--batch-size', '64', '--epochs', '1', '--no-report', '--json', '--out', out])
  t.is(result.code, 0, result.stderr)
  const output = events(result.stdout)
  t.is(output.filter((e) => e.event === 'start').length, 1, 'only rank 0 reports')
  t.is(output.find((e) => e.event === 'start')!.batchesPerEpoch, 8, "each rank's 500 examples in batches of 64")
  t.true(existsSync(join(out, 'checkpoint')))
})

test.serial('--bucket-cap-mb must be a positive number of MiB', async (t) => {
  const result = await run(process.execPath, [cli, 'train', '--nproc-per-node', '2', '--bucket-cap-mb', '0', '--epochs', '1'])
  t.is(result.code, 2, 'a usage error')
  t.regex(result.stderr, /--bucket-cap-mb.*a number of MiB > 0/)
})

test.serial('a store on a port in use is a DistributedError naming the address', async (t) => {
  const { createServer } = await import('node:net')
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const port = (server.address() as { port: number }).port
  const data = await smallMnistDir(200, 100)
  const result = await run(process.execPath, [cli, 'train', '--data', data, '--epochs', '1', '--no-report', '--out', join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')], { env: { RANK: '0', WORLD_SIZE: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } })
  server.close()
  t.is(result.code, 1)
  t.regex(result.stderr, new RegExp(`distributed \\(rank 0 of 1\\): cannot host the store at 127\\.0\\.0\\.1:${port}`))
})

test.serial('an unreachable MASTER_ADDR fails within the timeout naming the address', async (t) => {
  const data = await smallMnistDir(200, 100)
  // 192.0.2.0/24 is TEST-NET-1: reserved, never routed.
  const result = await run(process.execPath, [cli, 'train', '--data', data, '--epochs', '1', '--no-report', '--dist-timeout', '3', '--out', join(await mkdtemp(join(tmpdir(), 'convtorch-dist-')), 'run')], { env: { RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: '192.0.2.1', MASTER_PORT: '29500' } })
  t.is(result.code, 1)
  t.regex(result.stderr, /distributed \(rank 1 of 2\): cannot reach the store at 192\.0\.2\.1:29500/)
})
