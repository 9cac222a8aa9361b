// report.html: one self-contained page. Vega's browser build is read from node_modules and
// inlined, the charts' Vega specs and the images are inlined too, and a Content-Security-Policy
// forbids every fetch: the page opens offline and asks no server for anything.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { summary } from '../cli/summary-command'
import type { ReportInput } from './report-input'

export type CompiledCharts = Record<'loss' | 'accuracy' | 'learningRate' | 'confusion', Record<string, unknown>>

let vegaSource: string | undefined

/** vega.min.js of the installed vega (its browser build). */
function vegaScript(): string {
  vegaSource ??= readFileSync(join(dirname(require.resolve('vega')), 'vega.min.js'), 'utf8')
  return vegaSource
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
/** JSON safe inside a <script> element: no "</script" can close it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c')
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(2)}%`)
const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? '-' : x.toFixed(digits))

function table(header: string[], rows: Array<Array<string | number>>, className = ''): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n')
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
}

function keyValues(entries: Array<[string, unknown]>): string {
  return table(['', ''], entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]), 'kv')
}

/** Images trained per second of training time, per epoch and overall. */
function throughput(input: ReportInput): { perEpoch: number[]; overall: number | null } {
  const { batchSize } = input.options
  const images = input.history.map((e) => Math.min(e.batches * batchSize, e.batches === input.batchesPerEpoch ? input.data.trainCount : Infinity))
  const perEpoch = input.history.map((e, i) => images[i] / e.seconds.train)
  const seconds = input.history.reduce((s, e) => s + e.seconds.train, 0)
  return { perEpoch, overall: seconds > 0 ? images.reduce((a, b) => a + b, 0) / seconds : null }
}

function grid(input: ReportInput): string {
  if (input.misclassified.length === 0) return `<p class="note">${escapeHtml(input.misclassifiedNote ?? 'No misclassified test images.')}</p>`
  const names = input.classNames
  const figures = input.misclassified.map(
    (m) =>
      `<figure><img src="${m.png}" alt="test image ${m.index}">${m.cam ? `<img class="cam" src="${m.cam}" alt="Grad-CAM of test image ${m.index}">` : ''}<figcaption>#${m.index}<br>true <b>${escapeHtml(names[m.label])}</b> → <b>${escapeHtml(names[m.predicted])}</b><br>p ${(m.probability * 100).toFixed(1)}% (true ${(m.labelProbability * 100).toFixed(1)}%)</figcaption></figure>`,
  )
  return `<p class="note">The ${input.misclassified.length} most confident mistakes of ${escapeHtml(input.misclassifiedOf)}, most confident first; under each, Grad-CAM for the predicted class (red: the evidence the model used).</p><div class="grid" id="misclassified">${figures.join('\n')}</div>`
}

function networkSection(input: ReportInput): string {
  const view = input.network
  if (!view) return '<p class="note">No convolution or no test set: nothing to show.</p>'
  const names = input.classNames
  const filters = view.filters ? `<p class="note">The first convolution's learned filters (each filter's first input channel; black low, white high): early layers find edges and strokes.</p><img class="pixels" id="filters" src="${view.filters}" alt="learned filters">` : ''
  const examples = view.examples.map(
    (e) =>
      `<div class="example"><h3>test image #${e.index}: true ${escapeHtml(names[e.label])}, predicted ${escapeHtml(names[e.predicted])}</h3><div class="maps">${e.layers
        .map((l) => `<figure><img class="pixels" src="${l.png}" alt="${escapeHtml(l.title)}"><figcaption>${escapeHtml(l.title)}</figcaption></figure>`)
        .join('')}${e.cam ? `<figure><img class="pixels" src="${e.cam}" alt="Grad-CAM"><figcaption>Grad-CAM for ${escapeHtml(names[e.predicted])}: where the evidence lies</figcaption></figure>` : ''}</div></div>`,
  )
  return `${filters}<p class="note">Feature maps after each convolution and pooling layer (each map scaled to its own range), later layers coarser and more abstract, then a Grad-CAM heat map on the last convolution.</p><div id="network">${examples.join('\n')}</div>`
}

export function reportPage(input: ReportInput, charts: CompiledCharts, generated = new Date()): string {
  const test = input.test?.report
  const last = input.history.at(-1)
  const rate = throughput(input)
  const epochs = input.history.map((e, i) => [e.epoch, num(e.trainLoss), pct(e.trainAccuracy), num(e.testLoss), pct(e.testAccuracy), e.learningRate.toPrecision(4), e.batches, e.seconds.train.toFixed(2), e.seconds.trainEval.toFixed(2), e.seconds.testEval.toFixed(2), Math.round(rate.perEpoch[i])])
  const perClass = test ? test.perClass.map((c, i) => [input.classNames[i], pct(c.precision), pct(c.recall), num(c.f1), c.support]) : []
  const env = input.environment
  const timings = input.timings
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convtorch report: ${escapeHtml(input.runDir)}</title>
<style>
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.headline { display: flex; gap: 32px; margin: 12px 0; } .headline div { font-size: 13px; color: #555; } .headline b { display: block; font-size: 24px; color: #111; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .chart { min-width: 300px; min-height: 200px; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; } figure { margin: 0; width: 96px; font-size: 11px; text-align: center; } figure img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; }
.maps { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; } .maps figure { width: auto; } .maps figure img, img.pixels { width: auto; height: auto; image-rendering: pixelated; } .example h3 { font-size: 13px; margin: 12px 0 4px; }
table { border-collapse: collapse; font-size: 13px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; } th { background: #f5f5f5; } table.kv td:first-child { text-align: left; color: #555; } table.kv thead { display: none; } table.kv td:last-child { text-align: left; font-family: monospace; }
pre { background: #f7f7f7; padding: 10px; font-size: 12px; display: inline-block; } .note { color: #666; font-size: 13px; } .columns { display: flex; flex-wrap: wrap; gap: 32px; }
</style>
</head>
<body>
<h1>convtorch run ${escapeHtml(input.runDir)}</h1>
<div class="note">${escapeHtml(input.status)} · data ${escapeHtml(input.data.source)} (train ${input.data.trainCount}, test ${input.data.testCount}) · report written ${escapeHtml(generated.toISOString())}</div>
<div class="headline">
<div>test accuracy<b>${pct(test?.accuracy)}</b></div><div>test loss<b>${num(test?.loss)}</b></div><div>epochs<b>${last?.epoch ?? 0}/${input.options.epochs}</b></div><div>images/s (training)<b>${rate.overall === null ? '-' : Math.round(rate.overall)}</b></div><div>device<b>${escapeHtml(env?.device ?? input.options.device)}</b></div>
</div>
<h2>Curves</h2>
<div class="charts">
<div class="chart" id="chart-loss"></div><div class="chart" id="chart-accuracy"></div><div class="chart" id="chart-learningRate"></div><div class="chart" id="chart-confusion"></div>
</div>
<h2>Misclassified test images</h2>
${grid(input)}
<h2>What the network sees</h2>
${networkSection(input)}
<h2>Per-class precision, recall, F1${input.test ? ` (${escapeHtml(input.test.of)})` : ''}</h2>
${test ? table(['class', 'precision', 'recall', 'F1', 'support'], perClass) : '<p class="note">No test evaluation.</p>'}
<h2>Epochs</h2>
${table(['epoch', 'train loss', 'train acc', 'test loss', 'test acc', 'lr', 'batches', 'train s', 'train eval s', 'test eval s', 'images/s'], epochs)}
<h2>Model</h2>
<pre>${escapeHtml(summary(input.spec))}</pre>
<div class="columns">
<div><h2>Options</h2>${keyValues(Object.entries(input.options))}</div>
<div><h2>Timings</h2>${timings ? keyValues(Object.entries(timings).map(([k, v]) => [k, `${(v as number).toFixed(2)} s`])) : '<p class="note">The run did not finish: no final timings.</p>'}
<h2>Environment</h2>${env ? keyValues(Object.entries(env)) : '<p class="note">Not recorded.</p>'}${input.checkpoint ? `<p class="note">checkpoint: ${escapeHtml(input.checkpoint)}</p>` : ''}</div>
</div>
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script>${vegaScript()}</script>
<script>
// Each chart drawn as SVG into its box; body[data-charts] says when all are done (or failed).
(function () {
  var specs = JSON.parse(document.getElementById('charts').textContent)
  var names = Object.keys(specs)
  Promise.all(names.map(function (name) {
    var view = new vega.View(vega.parse(specs[name]), { renderer: 'svg', container: '#chart-' + name, hover: true })
    return view.runAsync()
  })).then(function () { document.body.dataset.charts = 'done' }, function (error) { document.body.dataset.charts = 'failed: ' + error })
})()
</script>
</body>
</html>
`
}
