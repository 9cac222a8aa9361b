import test from 'ava'
import { spawnSync } from 'node:child_process'
import { lstat, mkdir, mkdtemp, readdir, readlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newRunDirectory, runName } from '../src/cli/run-directory'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const convtorch = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 180_000 })

test('run names sort as their start times, and runs started in the same second get _2, _3', async (t) => {
  t.is(runName(new Date(2025, 0, 2, 3, 4, 5)), '2025-01-02_03-04-05')
  const runs = await mkdtemp(join(tmpdir(), 'convtorch-runs-'))
  const when = new Date(2025, 5, 1, 14, 3, 22)
  const made = [await newRunDirectory(runs, when), await newRunDirectory(runs, when), await newRunDirectory(runs, when)]
  t.deepEqual(made.map((d) => d.slice(runs.length + 1)), ['2025-06-01_14-03-22', '2025-06-01_14-03-22_2', '2025-06-01_14-03-22_3'])
})

test('train without --out keeps every run in runs/ and links runs/latest to the newest; summary and --resume take runs/latest', async (t) => {
  const data = await smallMnistDir(600, 100)
  const cwd = await mkdtemp(join(tmpdir(), 'convtorch-cwd-'))
  // A runs/latest/ directory as convtorch wrote it before run history: kept, renamed by its time.
  await mkdir(join(cwd, 'runs', 'latest'), { recursive: true })
  await writeFile(join(cwd, 'runs', 'latest', 'history.json'), '[]')
  const old = new Date(2024, 1, 3, 4, 5, 6)
  await utimes(join(cwd, 'runs', 'latest'), old, old)

  const flags = ['train', '--data', data, '--epochs', '1', '--device', 'cpu', '--init', 'default', '--quiet', '--no-report']
  const first = convtorch(flags, cwd)
  t.is(first.status, 0, first.stderr)
  t.regex(first.stderr, /^convtorch: moved the old runs\/latest\/ to runs\/2024-02-03_04-05-06\/; runs\/latest now links to the newest run$/m)
  const second = convtorch(flags, cwd)
  t.is(second.status, 0, second.stderr)
  const runs = (await readdir(join(cwd, 'runs'))).sort()
  t.is(runs.length, 4, runs.join(', '))
  t.is(runs[0], '2024-02-03_04-05-06')
  t.deepEqual(await readdir(join(cwd, 'runs', runs[0])), ['history.json'])
  const newest = runs.filter((r) => /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(_\d+)?$/.test(r)).pop()!
  t.true((await lstat(join(cwd, 'runs', 'latest'))).isSymbolicLink())
  t.is(await readlink(join(cwd, 'runs', 'latest')), newest)
  t.regex(second.stdout, new RegExp(`Saved: runs/${newest}/checkpoint`))

  for (const model of ['runs/latest', 'runs/latest/checkpoint/model.json']) {
    const summary = convtorch(['summary', '--model', model], cwd)
    t.is(summary.status, 0, summary.stderr)
    t.regex(summary.stdout, /Total params: 9,098/, model)
  }
  const resumed = convtorch(['train', '--resume', 'runs/latest', '--epochs', '2', '--quiet'], cwd)
  t.is(resumed.status, 0, resumed.stderr)
  t.is((await readdir(join(cwd, 'runs'))).length, 4, 'a resumed run stays in its directory')

  // A run refused before training leaves no empty directory behind.
  const refused = convtorch(['train', '--data', join(cwd, 'no-such-dir'), '--quiet'], cwd)
  t.not(refused.status, 0)
  t.is((await readdir(join(cwd, 'runs'))).length, 4)
})
