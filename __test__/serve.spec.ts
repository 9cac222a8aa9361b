import test from 'ava'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { mnistInputFromFile, Model, serveModel } from '../src/index'
import { findChromium, visit, type VisitStep } from './helpers/chromium'
import { runsHere } from './helpers/host'
import { mnist } from './helpers/mnist'
import { scratchDirectories } from './helpers/scratch'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const scratch = scratchDirectories('serve')
const PAD = 280

/** A seed net trained briefly with Adam: enough to read clearly drawn digits. */
async function trainedRun(): Promise<string> {
  const dir = join(await scratch('run'), 'run')
  const model = Model.create({ model: 'seed', device: 'cpu', init: 'default', seed: 2, optimizer: { kind: 'adam', lr: 0.002 } })
  const { train } = await mnist()
  const count = 12_800
  const data = train.slice(0, count).toDevice('cpu')
  await model.trainBatches(data, Uint32Array.from({ length: count }, (_, i) => i), 64)
  data.dispose()
  await model.save(dir)
  model.dispose()
  return dir
}

/** `convtorch serve --port 0` as a user starts it; resolves with the URL it prints. */
function startServer(runDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--model', runDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr!.on('data', (c) => (err += c))
    child.stdout!.on('data', (c) => {
      out += c
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1]
      if (url) resolve({ child, url })
    })
    child.on('exit', (code) => reject(new Error(`convtorch serve exited (${code}): ${out}${err}`)))
  })
}

interface Snapshot {
  last: { source: string; blank: boolean; label: number; probabilities: number[]; input: number[]; ms: number }
  png: string
}

const SNAPSHOT = "window.convtorchServe.settled().then(() => ({ last: window.convtorchServe.last, png: document.getElementById('pad').toDataURL('image/png') }))"

/** Pad coordinates (0-280) to the page's, from the pad's box kept as `pad`. */
function onPage(results: Record<string, unknown>, [x, y]: [number, number]): { x: number; y: number } {
  const box = results.pad as { left: number; top: number; width: number; height: number }
  return { x: box.left + (x * box.width) / PAD, y: box.top + (y * box.height) / PAD }
}

function along(points: Array<[number, number]>, step: number): Array<[number, number]> {
  const out: Array<[number, number]> = [points[0]]
  for (let i = 1; i < points.length; i++) {
    const [[x0, y0], [x1, y1]] = [points[i - 1], points[i]]
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step))
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n])
  }
  return out
}

/** A seven with the mouse: the bar, then the stem, one stroke. */
const mouseSeven = (results: Record<string, unknown>): VisitStep[] => {
  const points = along([[85, 65], [195, 62], [190, 80], [125, 225]], 8).map((p) => onPage(results, p))
  const mouse = (type: string, p: { x: number; y: number }, buttons: number) => ({ send: 'Input.dispatchMouseEvent', params: { type, ...p, button: 'left', buttons, clickCount: 1 } })
  return [mouse('mousePressed', points[0], 1), ...points.slice(1).map((p) => mouse('mouseMoved', p, 1)), mouse('mouseReleased', points.at(-1)!, 0)]
}

/** A zero with a finger: an ellipse, one touch. */
const touchZero = (results: Record<string, unknown>): VisitStep[] => {
  const points = Array.from({ length: 49 }, (_, i): [number, number] => [140 + 58 * Math.sin((i / 48) * 2 * Math.PI), 140 - 88 * Math.cos((i / 48) * 2 * Math.PI)]).map((p) => onPage(results, p))
  const touch = (type: string, p?: { x: number; y: number }) => ({ send: 'Input.dispatchTouchEvent', params: { type, touchPoints: p ? [{ ...p, id: 1, radiusX: 2, radiusY: 2, force: 1 }] : [] } })
  return [touch('touchStart', points[0]), ...points.slice(1).map((p) => touch('touchMove', p)), touch('touchEnd')]
}

/** Drops `png` (base64) on the pad as a file named `name`, and waits for its prediction. */
function dropFile(name: string, png: string): string {
  return `(async () => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(png)}), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], ${JSON.stringify(name)}, { type: 'image/png' }));
    document.getElementById('pad').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    const state = window.convtorchServe;
    while (!(state.last && state.last.source === ${JSON.stringify(name)})) await new Promise((r) => setTimeout(r, 20));
    return ${SNAPSHOT};
  })()`
}

interface Predicted {
  file: string
  label: number
  probabilities: number[]
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]))
  return worst
}

test('serveModel() refuses a model the page cannot draw for, and a port in use, with typed errors', async (t) => {
  const dir = join(await scratch('rgb'), 'run')
  const model = Model.create({ model: { input: [3, 8, 8], classes: 2, layers: [{ type: 'flatten' }, { type: 'linear', units: 2 }] }, device: 'cpu' })
  await model.save(dir)
  model.dispose()
  await t.throwsAsync(serveModel({ model: dir, port: 0 }), { code: 'CONVTORCH_INVALID_ARGUMENT', message: /model must be a 1x28x28 model .*got 'a 3x8x8 model'/ })
  await t.throwsAsync(serveModel({ model: dir, port: 70000 }), { message: /port must be an integer in \[0, 65535\], got 70000/ })
  const seed = join(await scratch('seed'), 'run')
  const untrained = Model.create({ model: 'seed', device: 'cpu' })
  await untrained.save(seed)
  untrained.dispose()
  const first = await serveModel({ model: seed, port: 0 })
  const port = Number(new URL(first.url).port)
  try {
    await t.throwsAsync(serveModel({ model: seed, port }), { code: 'CONVTORCH_INVALID_ARGUMENT', message: new RegExp(`port must be a free port \\(127\\.0\\.0\\.1:${port} is in use\\), got ${port}`) })
  } finally {
    await first.close()
  }
})

test('the served page reads a digit drawn with the mouse, one drawn with a finger and a dropped file as convtorch predict does, asking nothing of any other server', async (t) => {
  if (!runsHere(t, ['chromium'])) return
  const chromium = findChromium()!
  const runDir = await trainedRun()
  const dir = await scratch('page')
  // MNIST test image 0 (a 7), as a user's file: black on white, 112x112.
  const { test: testSet } = await mnist()
  const digit = testSet.slice(0, 1)
  const dropped = join(dir, 'mnist-test-0.png')
  await sharp(Buffer.from((digit.images as Uint8Array).map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } }).resize(112, 112, { kernel: 'nearest' }).png().toFile(dropped)
  const droppedPng = (await sharp(dropped).toBuffer()).toString('base64')

  const { child, url } = await startServer(runDir)
  try {
    const page = await visit(chromium, url, {
      width: 900,
      height: 560,
      timeoutMs: 90_000,
      ready: 'window.convtorchServe && (window.convtorchServe.ready || window.convtorchServe.error)',
      steps: [
        { evaluate: 'window.convtorchServe.error', as: 'error' },
        { evaluate: "(() => { const r = document.getElementById('pad').getBoundingClientRect(); return { left: r.left, top: r.top, width: r.width, height: r.height } })()", as: 'pad' },
        { send: 'Emulation.setTouchEmulationEnabled', params: { enabled: true, maxTouchPoints: 1 } },
        { expand: touchZero },
        { evaluate: SNAPSHOT, as: 'zero' },
        { evaluate: dropFile('mnist-test-0.png', droppedPng), as: 'dropped' },
        { expand: mouseSeven },
        { evaluate: SNAPSHOT, as: 'seven' },
      ],
      probe: "({ predicted: document.getElementById('predicted').textContent, widths: [...document.querySelectorAll('#bars .fill')].map((e) => e.getBoundingClientRect().width), best: [...document.querySelectorAll('#bars li')].findIndex((e) => e.className === 'best'), status: document.getElementById('status').textContent })",
    })
    const screenshot = join(tmpdir(), 'convtorch-serve-page.png')
    await writeFile(screenshot, page.screenshot)
    t.log(`screenshot: ${screenshot}`)
    t.is(page.results.error, null, page.console.join('\n'))

    const drawings = { zero: page.results.zero as Snapshot, seven: page.results.seven as Snapshot }
    const files: Record<string, string> = { dropped }
    for (const [name, snapshot] of Object.entries(drawings)) {
      files[name] = join(dir, `${name}.png`)
      await writeFile(files[name], Buffer.from(snapshot.png.replace(/^data:image\/png;base64,/, ''), 'base64'))
    }
    const predicted = spawnSync(process.execPath, [cli, 'predict', '--model', runDir, '--json', files.zero, files.dropped, files.seven], { encoding: 'utf8' })
    t.is(predicted.status, 0, predicted.stderr)
    const byFile = new Map((predicted.stdout.trim().split('\n').map((line) => JSON.parse(line)) as Predicted[]).map((p) => [p.file, p]))
    const seen = { zero: drawings.zero.last, dropped: (page.results.dropped as Snapshot).last, seven: drawings.seven.last }
    const expectedLabels = { zero: 0, dropped: 7, seven: 7 }
    for (const [name, last] of Object.entries(seen) as Array<[keyof typeof seen, Snapshot['last']]>) {
      const node = byFile.get(files[name])!
      const input = (await mnistInputFromFile(files[name])).pixels
      const errors = { input: maxAbs(last.input, input), probabilities: maxAbs(last.probabilities, node.probabilities) }
      t.log(`${name}: page ${last.label} (${(last.probabilities[last.label] * 100).toFixed(1)}%, ${last.ms.toFixed(1)} ms), convtorch predict ${node.label}; max differences ${JSON.stringify(errors)}`)
      t.false(last.blank, `${name}: the page found ink`)
      t.is(last.label, node.label, `${name}: the page's label is convtorch predict's`)
      t.is(last.label, expectedLabels[name], `${name}: the digit drawn`)
      // The page preprocesses with convtorch's own module on the grey plane the PNG decodes to.
      t.true(errors.input <= 1e-6, `${name}: the page's 28x28 input differs from Node's by ${errors.input}`)
      t.true(errors.probabilities <= 1e-4, `${name}: ONNX Runtime Web's probabilities differ from libtorch's by ${errors.probabilities}`)
    }
    t.is(seen.dropped.source, 'mnist-test-0.png')
    const probed = page.probed as { predicted: string; widths: number[]; best: number; status: string }
    t.is(probed.predicted, '7', 'the predicted class is shown')
    t.is(probed.best, 7, "the predicted class's bar is marked")
    t.is(probed.widths.indexOf(Math.max(...probed.widths)), 7, "the predicted class's bar is the longest")
    t.regex(probed.status, /^Your drawing: 7 \(\d+\.\d%\), \d+\.\d ms in ONNX Runtime Web$/)
    const outside = page.requests.filter((r) => !r.startsWith(url) && !r.startsWith('data:'))
    t.deepEqual(outside, [], 'no request leaves the local server')
    for (const path of ['', 'app.js', 'modules.js', 'model.json', 'model.onnx', 'ort/ort.wasm.min.js', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm']) {
      t.true(page.requests.includes(`${url}${path}`), `the page loaded /${path}`)
    }
    t.deepEqual(page.console.filter((line) => /error|violat|refused|exception/i.test(line)), [])
  } finally {
    child.kill('SIGTERM')
  }
  const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))
  t.is(code, 0, 'Ctrl-C (SIGTERM) stops the server cleanly')
})
