// The GPU pack end to end on this machine's CPU: scripts/gpu-pack.mjs makes .device/pack (or
// keeps the parts that are fresh), and scripts/gpu-run.sh unpacks it into a new directory and
// runs doctor, two specs and a tiny benchmark there with its own Node and the local torch, as
// the GPU host does with CUDA (GPU_RUN_* select the CPU, the specs and the benchmark).
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runsHere, unavailable } from './helpers/host'

const root = join(__dirname, '..', '..')
const packDir = join(root, '.device', 'pack')
const script = join(root, 'scripts', 'gpu-run.sh')

function gpuRun(env: NodeJS.ProcessEnv) {
  return spawnSync('bash', [script], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } })
}

let packed: ReturnType<typeof spawnSync> | undefined

/** Makes the pack once per file (gpu-pack.mjs keeps parts whose inputs did not change). */
function pack() {
  packed ??= spawnSync(process.execPath, [join(root, 'scripts', 'gpu-pack.mjs')], { cwd: root, encoding: 'utf8', timeout: 600_000 })
  return packed as ReturnType<typeof spawnSync> & { stdout: string; stderr: string }
}

test.serial('gpu-run.sh runs doctor, the specs and the benchmark from the unpacked pack, under OUT', async (t) => {
  t.timeout(10 * 60_000)
  // The pack is made from the clone's build; gpu-run.sh needs a torch's Python.
  if (!runsHere(t, ['sources'])) return
  const python = process.env.CONVTORCH_PYTHON
  if (!python) return unavailable(t, 'CONVTORCH_PYTHON is not set (run the tests through `npm test`, which sets it from .torch/env.json)')
  const made = pack()
  t.is(made.status, 0, made.stderr)
  t.regex(made.stdout, /^total\s+[\d.]+ MiB {2}of 64\.0 MiB/m)
  for (const part of ['node', 'mnist', 'deps', 'app']) t.true(existsSync(join(packDir, `${part}.tar.xz`)), part)

  const out = await mkdtemp(join(tmpdir(), 'convtorch-gpu-out-'))
  const unpacked = await mkdtemp(join(tmpdir(), 'convtorch-gpu-unpacked-'))
  const result = gpuRun({
    OUT: out,
    GPU_RUN_DIR: unpacked,
    GPU_RUN_STEPS: 'doctor ava bench-short',
    GPU_RUN_DEVICE: 'cpu',
    // idx reads the pack's MNIST; bundle must skip there (no clone to build from), saying why.
    GPU_RUN_SPECS: '__test__/idx.spec.ts __test__/bundle.spec.ts',
    GPU_RUN_BENCH_SHORT: '--net cifar --examples 256 --epochs 1 --rounds 1 --contenders B,C',
  })
  t.is(result.status, 0, result.stdout + result.stderr)
  t.true(existsSync(join(unpacked, 'bin', 'node')), "the pack's Node was unpacked")

  const doctor = JSON.parse(readFileSync(join(out, 'doctor.json'), 'utf8'))
  t.true(doctor.usable)
  t.is(doctor.libtorchSource, 'LIBTORCH', 'gpu-run.sh points LIBTORCH at the torch of CONVTORCH_PYTHON')
  t.regex(readFileSync(join(out, 'doctor.log'), 'utf8'), /^usable\s+yes$/m)

  t.regex(readFileSync(join(out, 'ava-summary.txt'), 'utf8'), /^\d+ tests passed\n$/)
  const ava = readFileSync(join(out, 'ava.log'), 'utf8')
  t.regex(ava, /✔ idx › /)
  t.true(ava.includes(`skipped: ${unpacked} is not a convtorch clone`), 'the spec ran from the unpacked directory and said why it skipped')

  const bench = JSON.parse(readFileSync(join(out, 'bench-short.json'), 'utf8'))
  t.deepEqual(bench.contenders.map((c: { letter: string }) => c.letter), ['B', 'C'])
  for (const c of bench.contenders) t.is(c.raw[0].epochs.length, 1, `${c.letter}: one epoch`)
  t.is(bench.device, 'cpu')

  const summary = readFileSync(join(out, 'summary.txt'), 'utf8')
  for (const step of ['doctor', 'ava', 'bench-short']) t.regex(summary, new RegExp(`^gpu-run: ${step}: exit 0 in \\d+s`, 'm'))
})

test.serial('gpu-run.sh keeps to its budget: a step without time left is reported, not run; OUT is required', async (t) => {
  if (!runsHere(t, ['sources'])) return
  if (!process.env.CONVTORCH_PYTHON) return unavailable(t, 'CONVTORCH_PYTHON is not set (run the tests through `npm test`)')
  t.is(pack().status, 0)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-gpu-out-'))
  // A step starts only with 20 s or more left: a budget of 15 s is spent before ava.
  const result = gpuRun({ OUT: out, GPU_RUN_STEPS: 'ava', GPU_RUN_BUDGET: '15' })
  t.is(result.status, 0, result.stdout + result.stderr)
  const summary = readFileSync(join(out, 'summary.txt'), 'utf8')
  t.regex(summary, /^gpu-run: ava: not run, -?\d+s left of the budget$/m)
  t.false(existsSync(join(out, 'ava.log')))

  const { OUT: _, ...withoutOut } = process.env
  const missing = spawnSync('bash', [script], { cwd: root, encoding: 'utf8', env: withoutOut })
  t.is(missing.status, 2)
  t.regex(missing.stderr, /gpu-run: OUT is not set/)
})
