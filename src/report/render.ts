// Vega-Lite specs compiled to Vega, and Vega drawn as SVG then PNG (sharp) on this side.
// vega and vega-lite are ES modules: loaded once, on the first report.
import { sharp } from '../image/decode'
import type { ChartSpec } from './charts'

type VegaModules = { vega: typeof import('vega', { with: { 'resolution-mode': 'import' } }); vegaLite: typeof import('vega-lite', { with: { 'resolution-mode': 'import' } }) }
let modules: Promise<VegaModules> | undefined

function load(): Promise<VegaModules> {
  modules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({ vega, vegaLite }))
  return modules
}

/** The Vega spec of a Vega-Lite chart, without its $schema URL (the page names no address). */
export async function compileChart(chart: ChartSpec): Promise<Record<string, unknown>> {
  const { vegaLite } = await load()
  const { $schema: _schema, ...spec } = vegaLite.compile({ ...chart, background: 'white', config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' } } as never).spec as Record<string, unknown>
  return spec
}

export async function chartSvg(vegaSpec: Record<string, unknown>, scale = 2): Promise<string> {
  const { vega } = await load()
  const view = new vega.View(vega.parse(vegaSpec as never), { renderer: 'none' })
  try {
    return await view.toSVG(scale)
  } finally {
    view.finalize()
  }
}

export async function chartPng(vegaSpec: Record<string, unknown>): Promise<Buffer> {
  return sharp()(Buffer.from(await chartSvg(vegaSpec))).png().toBuffer()
}
