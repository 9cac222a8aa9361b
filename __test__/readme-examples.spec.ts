import test from 'ava'
import { spawn } from 'node:child_process'
import { copyFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { bundledMnistDir, MNIST_FILES, Model, readIdxFile } from '../src/index'
import { runsHere } from './helpers/host'
import { bareEnv, emptyProject, installInto, PACKING, packTarballs, root, run, torchPythonOrSkip, withTorch } from './helpers/packed-install'
import { commandWithFewerEpochs, readme, withFewerEpochs } from './helpers/readme-examples'
import { writeShapes } from './helpers/shapes-dataset'

const examples = readme(root)

test('the README has TypeScript programs that import convtorch, and convtorch command lines, to test', (t) => {
  t.true(examples.typescript.length >= 5, `${examples.typescript.length} ts blocks`)
  for (const source of examples.typescript) t.regex(source, /^import \{[^}]+\} from 'convtorch'$/m, 'each example imports what it uses')
  for (const name of ['train', 'eval', 'predict', 'summary', 'export', 'inspect', 'report', 'doctor']) {
    t.true(examples.commands.some((c) => c.includes(`convtorch ${name} `) || c.endsWith(`convtorch ${name}`)), `a ${name} command`)
  }
  t.is(commandWithFewerEpochs('convtorch train --data photos/ --out runs/photos'), 'convtorch train --data photos/ --out runs/photos --epochs 1')
  t.is(commandWithFewerEpochs('convtorch train --resume runs/latest --epochs 2'), 'convtorch train --resume runs/latest --epochs 2')
  t.is(withFewerEpochs("train({ epochs: 10 }); train({ resume: 'r', epochs: 15 })"), "train({ epochs: 1 }); train({ resume: 'r', epochs: 2 })")
})

// As a user with TypeScript 5.9's `tsc --init` would have it, made stricter still by
// skipLibCheck: false, so that convtorch's own .d.ts files are checked. CommonJS projects
// cannot take verbatimModuleSyntax with import statements (TS1286), whatever the package.
function tsconfig(type: 'commonjs' | 'module'): string {
  const compilerOptions = {
    module: 'nodenext',
    target: 'es2022',
    types: [],
    strict: true,
    skipLibCheck: false,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    isolatedModules: true,
    verbatimModuleSyntax: type === 'module',
    rootDir: 'src',
    outDir: 'build',
    noEmitOnError: true,
  }
  return JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)
}

/** The files the README's examples name: a digit to predict, a PyTorch state_dict, a photo folder and its spec. */
async function writeFixtures(app: string, weights: string, photos: string): Promise<void> {
  const images = await readIdxFile(join(bundledMnistDir(), MNIST_FILES.testImages))
  await sharp(Buffer.from(images.data.subarray(0, 784)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(app, 'my-digit.png'))
  await copyFile(weights, join(app, 'torch.safetensors'))
  await writeFile(join(app, 'rgb.json'), JSON.stringify({ input: [3, 32, 32], classes: 3, layers: [{ type: 'conv2d', filters: 8, kernel: 3, padding: 'same' }, { type: 'relu' }, { type: 'maxPool2d', kernel: 2 }, { type: 'flatten' }, { type: 'linear', units: 3 }] }))
  await cp(photos, join(app, 'photos'), { recursive: true })
  const [circle] = await readdir(join(photos, 'test', 'circle'))
  await sharp(join(photos, 'test', 'circle', circle!)).jpeg().toFile(join(app, 'holiday.jpg'))
}

/** Starts a `convtorch serve` line on any free port, fetches its page, then sends SIGINT. */
async function servedPage(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number; page: string; code: number | null; output: string }> {
  const words = command.replace(/#.*$/, '').replace(/--port \d+/, '').trim().split(/\s+/)
  const child = spawn(words[0] === 'npx' ? 'npx' : join(cwd, 'node_modules', '.bin', 'convtorch'), [...words.slice(1), '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk) => (output += chunk))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk
      const found = / at (http:\/\/\S+)/.exec(output)
      if (found) resolve(found[1])
    })
    child.on('exit', () => reject(new Error(`serve exited before serving: ${output}`)))
  })
  const response = await fetch(url)
  const page = await response.text()
  const code = await new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit')
    child.on('exit', resolve)
    child.kill('SIGINT')
  })
  return { status: response.status, page, code, output }
}

const versionOf = async (name: string) => JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string

test('every README example works in a fresh project: the TypeScript ones type-check (strict, skipLibCheck false) and run as CommonJS and as ES modules, the commands run', async (t) => {
  t.timeout(40 * 60_000)
  if (!runsHere(t, PACKING)) return
  const python = torchPythonOrSkip(t)
  if (!python) return
  const { tarballs, pack } = await packTarballs()
  t.is(pack.status, 0, pack.stderr)
  // A PyTorch-named state_dict of the seed ConvNet, for `model.loadWeights('torch.safetensors')`.
  const saved = await mkdtemp(join(tmpdir(), 'convtorch-weights-'))
  await Model.create({ model: 'seed', seed: 3, device: 'cpu' }).save(saved)
  const photos = join(await mkdtemp(join(tmpdir(), 'convtorch-photos-')), 'photos')
  await writeShapes({ dir: photos, perClass: { train: 20, test: 5 }, size: 32 })
  const typescript = [`typescript@${await versionOf('typescript')}`, `@types/node@${await versionOf('@types/node')}`]
  const env = withTorch(bareEnv(), python)

  let commonjs = ''
  for (const type of ['commonjs', 'module'] as const) {
    const app = await emptyProject(type)
    if (type === 'commonjs') commonjs = app
    const install = installInto(app, [...tarballs, ...typescript])
    t.is(install.status, 0, install.stderr)
    await writeFixtures(app, join(saved, 'weights.safetensors'), photos)
    await writeFile(join(app, 'tsconfig.json'), tsconfig(type))
    await mkdir(join(app, 'src'))
    const names = examples.typescript.map((_, i) => `example-${i + 1}`)
    for (const [i, source] of examples.typescript.entries()) await writeFile(join(app, 'src', `${names[i]}.ts`), source)
    const checked = run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app, env)
    t.is(checked.status, 0, `tsc (${type}):\n${checked.stdout}${checked.stderr}`)
    // The module kind is really the one asked for: require() in CommonJS, import in ESM.
    t.regex(await readFile(join(app, 'build', 'example-1.js'), 'utf8'), type === 'module' ? /^import \{ train \} from 'convtorch';$/m : /require\("convtorch"\)/)
    for (const [i, name] of names.entries()) {
      // Run with fewer epochs than the README gives: the same program, in seconds.
      await writeFile(join(app, 'build', `${name}.js`), withFewerEpochs(await readFile(join(app, 'build', `${name}.js`), 'utf8')))
      const ran = run(process.execPath, [join('build', `${name}.js`)], app, env)
      t.is(ran.status, 0, `${type} example ${i + 1}:\n${examples.typescript[i]}\n${ran.stderr}`)
      t.not(ran.stdout.trim(), '', `${type} example ${i + 1} printed its result`)
      t.log(`${type} example ${i + 1}: ${ran.stdout.trim().split('\n').pop()}`)
    }
  }

  // The command lines, in README order, in the CommonJS project (the CLI is the same for both).
  const bin = { ...env, PATH: `${join(commonjs, 'node_modules', '.bin')}:${env.PATH}` }
  for (const line of examples.commands) {
    const command = commandWithFewerEpochs(line)
    if (/^(npx )?convtorch serve /.test(command)) {
      // A server runs until stopped: its page is fetched, then Ctrl-C ends it.
      const served = await servedPage(command, commonjs, bin)
      t.is(served.status, 200, `${command}: ${served.output}`)
      t.regex(served.page, /<title>[^<]*convtorch/i, command)
      t.is(served.code, 0, `${command} ends on SIGINT: ${served.output}`)
      t.log(`${command}: page of ${served.page.length} characters`)
      continue
    }
    const ran = run('sh', ['-c', command], commonjs, bin)
    t.is(ran.status, 0, `${command}\n${ran.stdout.slice(-2000)}\n${ran.stderr}`)
    t.log(`${command}: ${ran.stdout.trim().split('\n').pop()}`)
  }
  t.true((await lstat(join(commonjs, 'runs', 'latest'))).isSymbolicLink(), 'runs/latest links to the newest run')
})
