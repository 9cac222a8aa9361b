import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { train, TrainingAbortedError, type TrainOptions } from '../src/index'
import { findChromium, visit } from './helpers/chromium'
import { runsHere } from './helpers/host'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const PNGS = ['loss.png', 'accuracy.png', 'confusion.png']

// One finished run shared by the tests that only read it: 1,000 images, 3 epochs, 8 batches each.
let finished: Promise<string> | undefined
function finishedRun(): Promise<string> {
  finished ??= (async () => {
    const out = await mkdtemp(join(tmpdir(), 'convtorch-report-'))
    await train({ data: await smallMnistDir(1_000, 300), epochs: 3, device: 'cpu', out, init: 'default', optimizer: { kind: 'adam', lr: 0.003 } })
    return out
  })()
  return finished
}

/** Share of pixels in a region that are not the white page background. */
async function inkShare(image: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<number> {
  const { data, info } = await sharp(image).extract(region).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  let ink = 0
  for (let i = 0; i < data.length; i += info.channels) if (765 - data[i] - data[i + 1] - data[i + 2] > 60) ink++
  return ink / (info.width * info.height)
}

test('train() with out writes a self-contained report.html and the loss, accuracy and confusion PNGs; report: false writes none', async (t) => {
  const out = await finishedRun()
  const html = await readFile(join(out, 'report.html'), 'utf8')
  t.log(`report.html: ${(html.length / 1024).toFixed(0)} KiB`)
  t.notRegex(html, /\s(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i, 'no src or href names a server')
  t.regex(html, /Content-Security-Policy" content="default-src 'none'/)
  t.true(html.includes('vega.View') && html.length > 400_000, 'Vega inlined')
  t.is(html.match(/<img src="data:image\/png;base64,/g)?.length, 40, 'the 40 most confident mistakes')
  t.regex(html, /Total params: 9,098/)
  t.regex(html, /<td>torch<\/td><td>2\.11\.0/)
  for (const name of PNGS) {
    const image = sharp(await readFile(join(out, name)))
    const meta = await image.metadata()
    t.is(meta.format, 'png', name)
    t.true(meta.width! > 600 && meta.height! > 400, `${name} ${meta.width}x${meta.height}`)
    t.true((await inkShare(await readFile(join(out, name)), { left: 0, top: 0, width: meta.width!, height: meta.height! })) > 0.03, `${name} has a drawing`)
  }
  const quiet = await mkdtemp(join(tmpdir(), 'convtorch-no-report-'))
  const options: TrainOptions = { data: await smallMnistDir(300, 50), epochs: 1, device: 'cpu', out: quiet, report: false }
  await train(options)
  t.false(existsSync(join(quiet, 'report.html')))
  t.true(existsSync(join(quiet, 'history.csv')))
  await t.throwsAsync(train({ ...options, report: 'yes' as unknown as boolean }), { message: /report must be true or false, got 'yes'/ })
})

test('report.html draws its charts and image grid in headless Chromium without a network request', async (t) => {
  if (!runsHere(t, ['chromium'])) return
  const chromium = findChromium()!
  const out = await finishedRun()
  const boxes = ['chart-loss', 'chart-accuracy', 'chart-learningRate', 'chart-confusion', 'misclassified', 'network']
  const height = 3600
  const page = await visit(chromium, pathToFileURL(join(out, 'report.html')).href, {
    width: 1400,
    height,
    ready: 'document.body.dataset.charts',
    probe: `({ charts: document.body.dataset.charts, boxes: Object.fromEntries(${JSON.stringify(boxes)}.map((id) => { const r = document.getElementById(id).getBoundingClientRect(); return [id, { left: r.left, top: r.top, width: r.width, height: r.height, marks: document.getElementById(id).querySelectorAll('path, rect, img').length }] })) })`,
  })
  const screenshot = join(out, 'screenshot.png')
  await writeFile(screenshot, page.screenshot)
  t.log(`screenshot: ${screenshot}`)
  const probed = page.probed as { charts: string; boxes: Record<string, { left: number; top: number; width: number; height: number; marks: number }> }
  t.is(probed.charts, 'done', page.console.join('\n'))
  t.deepEqual(page.requests.filter((url) => !url.startsWith('file://') && !url.startsWith('data:')), [], 'only the file itself and its data: images')
  t.deepEqual(page.console.filter((line) => /error|violat|refused/i.test(line)), [])
  for (const id of boxes) {
    const box = probed.boxes[id]
    t.true(box.marks > 10, `${id}: ${box.marks} marks`)
    t.true(box.width > 200 && box.height > 100 && box.top + box.height < height, `${id} on screen: ${JSON.stringify(box)}`)
    const region = { left: Math.round(box.left), top: Math.round(box.top), width: Math.round(box.width), height: Math.round(box.height) }
    const share = await inkShare(page.screenshot, region)
    t.true(share > 0.02, `${id}: ${(share * 100).toFixed(1)}% drawn`)
  }
  // The measure can fail: the margin right of the page's column (24 + 1280 px), left of the scrollbar, is blank.
  t.true((await inkShare(page.screenshot, { left: 1310, top: 0, width: 60, height })) < 0.001)
  const html = await readFile(join(out, 'report.html'), 'utf8')
  t.regex(html, /<img class="pixels" id="filters" src="data:image\/png;base64,/, "the first convolution's filters")
  t.true((html.match(/<img class="cam" src="data:image\/png/g)?.length ?? 0) > 0, 'Grad-CAM under the misclassified images')
  t.is(html.match(/Grad-CAM for \S+: where the evidence lies/g)?.length, 3, 'feature maps and Grad-CAM of three test images')
})

test('convtorch report rebuilds the report of an interrupted run, then of the same run resumed', async (t) => {
  const data = await smallMnistDir(1_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-report-cut-'))
  const controller = new AbortController()
  const options: TrainOptions = { data, epochs: 3, device: 'cpu', out, batchesPerCall: 2, init: 'default' }
  await t.throwsAsync(train({ ...options, signal: controller.signal, callbacks: { onBatchEnd: (b) => void (b.epoch === 2 && b.batch === 3 && controller.abort()) } }), { instanceOf: TrainingAbortedError })
  t.false(existsSync(join(out, 'report.html')), 'an interrupted run writes no report itself')
  const rebuilt = spawnSync(process.execPath, [cli, 'report', out, '--json'], { encoding: 'utf8' })
  t.is(rebuilt.status, 0, rebuilt.stderr)
  t.deepEqual(JSON.parse(rebuilt.stdout).files, [join(out, 'report.html'), ...PNGS.map((f) => join(out, f))])
  const cut = await readFile(join(out, 'report.html'), 'utf8')
  t.regex(cut, /interrupted in epoch 2 after 4 batches \(report rebuilt from the run directory\)/)
  t.regex(cut, /Per-class precision, recall, F1 \(the checkpoint epoch-002-batch-0004\)/)
  t.true((cut.match(/<img src="data:image\/png/g)?.length ?? 0) > 0, 'the checkpoint misclassifies some test images')

  await train({ ...options, data: undefined, resume: out })
  await Promise.all(['report.html', ...PNGS].map((f) => rm(join(out, f))))
  const again = spawnSync(process.execPath, [cli, 'report', out], { encoding: 'utf8' })
  t.is(again.status, 0, again.stderr)
  t.regex(again.stdout, new RegExp(`^Wrote ${join(out, 'confusion.png')}$`, 'm'))
  const whole = await readFile(join(out, 'report.html'), 'utf8')
  t.regex(whole, /finished \(report rebuilt from the run directory\)/)
  t.is(whole.match(/<tr><td>\d<\/td><td>\d\.\d{4}<\/td>/g)?.length, 3, 'three epochs in the table')
  t.true((await stat(join(out, 'loss.png'))).size > 10_000)
  const missing = spawnSync(process.execPath, [cli, 'report'], { encoding: 'utf8' })
  t.is(missing.status, 2)
  t.regex(missing.stderr, /^convtorch report: missing required argument 'run-dir'\nRun `convtorch report --help`/)
})
