import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { runsHere } from './helpers/host'
import { PACKING } from './helpers/packed-install'
import { smallMnistDir } from './helpers/small-mnist'

const root = join(__dirname, '..', '..')

test('the offline bundle runs `convtorch train` with its own Node against the host torch', async (t) => {
  // The bundle is built here: tsc through npm, the portable addon through cargo, from the clone.
  if (!runsHere(t, PACKING)) return
  const python = process.env.CONVTORCH_PYTHON
  if (!python) {
    t.log('skipped: CONVTORCH_PYTHON is not set (run through `npm test`), so no host torch 2.11 is known')
    t.pass()
    return
  }
  const out = await mkdtemp(join(tmpdir(), 'convtorch-bundle-'))
  const made = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--out', out], { encoding: 'utf8', timeout: 600_000 })
  t.is(made.status, 0, made.stderr)
  const tarball = made.stdout.trim().split('\n').pop()!
  const host = await mkdtemp(join(tmpdir(), 'convtorch-host-'))
  t.is(spawnSync('tar', ['-xzf', tarball, '-C', host]).status, 0)
  const bin = join(host, 'convtorch-0.1.0-linux-x64', 'bin', 'convtorch')
  // The host: its torch's python3 on PATH, nothing else of ours (no node on PATH either).
  const env = { HOME: process.env.HOME, PATH: `${dirname(python)}:/bin` }
  const doctor = spawnSync(bin, ['doctor', '--json'], { encoding: 'utf8', env })
  t.is(doctor.status, 0, doctor.stdout + doctor.stderr)
  const report = JSON.parse(doctor.stdout)
  t.true(report.usable)
  t.regex(report.libtorchSource, /python3 on PATH/)
  const data = await smallMnistDir(1_000, 200)
  const trained = spawnSync(bin, ['train', '--epochs', '1', '--device', 'cpu', '--data', data, '--json', '--out', join(host, 'run')], { encoding: 'utf8', env })
  t.is(trained.status, 0, trained.stderr)
  const end = JSON.parse(trained.stdout.trim().split('\n').pop()!)
  t.is(end.event, 'end')
  t.is(end.test.count, 200)
})
