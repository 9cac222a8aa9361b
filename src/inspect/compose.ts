// An inspection as one picture: labelled sections stacked top to bottom (sharp's composite; the
// labels are SVG text rendered by librsvg).
import { sharp } from '../image/decode'
import type { Inspection } from './inspect-image'

const LABEL_HEIGHT = 22
const MARGIN = 10

function label(text: string, width: number): Buffer {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LABEL_HEIGHT}"><text x="0" y="16" font-family="DejaVu Sans, sans-serif" font-size="14">${escaped}</text></svg>`)
}

export async function composeInspection(inspection: Inspection, input: Buffer, names: (k: number) => string): Promise<Buffer> {
  const sections: Array<{ title: string; png: Buffer }> = [
    { title: `input: predicted ${names(inspection.predicted)} (${(inspection.probabilities[inspection.predicted] * 100).toFixed(1)}%)`, png: input },
  ]
  if (inspection.filters) sections.push({ title: 'first convolution: learned filters', png: inspection.filters })
  for (const layer of inspection.layers) sections.push({ title: `layer ${layer.layer} (${layer.type}): ${layer.shape.join('x')}`, png: layer.png })
  if (inspection.cam) sections.push({ title: `Grad-CAM on the last convolution for ${names(inspection.camClass)}`, png: inspection.cam })
  const sizes = await Promise.all(sections.map(async (s) => sharp()(s.png).metadata()))
  const width = Math.max(360, ...sizes.map((m) => m.width)) + 2 * MARGIN
  let top = MARGIN
  const layers: Array<{ input: Buffer; top: number; left: number }> = []
  sections.forEach((section, i) => {
    layers.push({ input: label(section.title, width - 2 * MARGIN), top, left: MARGIN })
    top += LABEL_HEIGHT
    layers.push({ input: section.png, top, left: MARGIN })
    top += sizes[i].height + MARGIN
  })
  return sharp()({ create: { width, height: top, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer()
}
