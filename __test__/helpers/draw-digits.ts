// Digit images drawn here, not taken from MNIST: the characters 0-9 as SVG text in a system font
// (DejaVu Sans), rendered by sharp's librsvg in several sizes, positions, strokes and polarities.
import { join } from 'node:path'
import sharp from 'sharp'

export interface DrawnDigit {
  file: string
  label: number
  variant: string
}

interface Variant {
  name: string
  width: number
  height: number
  /** Font size as a share of the canvas height. */
  size: number
  /** Offset of the glyph's centre from the canvas centre, as shares of width and height. */
  dx: number
  dy: number
  /** Outline width in pixels, in the ink's colour: thicker strokes. */
  stroke: number
  bold: boolean
  background: number
  ink: number
  format: 'png' | 'jpeg'
}

const VARIANTS: Variant[] = [
  { name: 'black on white, centred', width: 64, height: 64, size: 0.8, dx: 0, dy: 0, stroke: 0, bold: false, background: 255, ink: 0, format: 'png' },
  { name: 'white on black, small, top left', width: 96, height: 96, size: 0.4, dx: -0.22, dy: -0.2, stroke: 1, bold: false, background: 0, ink: 255, format: 'png' },
  { name: 'grey paper, bold, right, wide canvas', width: 160, height: 120, size: 0.6, dx: 0.25, dy: 0.05, stroke: 2, bold: true, background: 225, ink: 40, format: 'jpeg' },
  { name: 'thick outline, low', width: 128, height: 128, size: 0.5, dx: -0.05, dy: 0.22, stroke: 6, bold: false, background: 250, ink: 20, format: 'png' },
  { name: 'tall canvas, bold', width: 80, height: 200, size: 0.35, dx: 0.05, dy: -0.1, stroke: 0, bold: true, background: 255, ink: 0, format: 'png' },
  { name: 'large JPEG, off centre', width: 300, height: 300, size: 0.7, dx: 0.1, dy: -0.08, stroke: 4, bold: false, background: 240, ink: 30, format: 'jpeg' },
  { name: 'light grey ink on dark grey', width: 100, height: 100, size: 0.7, dx: 0, dy: 0.05, stroke: 2, bold: false, background: 40, ink: 200, format: 'jpeg' },
  { name: 'tiny', width: 40, height: 40, size: 0.75, dx: 0.05, dy: 0, stroke: 1, bold: true, background: 255, ink: 0, format: 'png' },
]

function grey(level: number): string {
  return `rgb(${level},${level},${level})`
}

function svg(digit: string, v: Variant): string {
  const fontSize = v.size * v.height
  const x = v.width * (0.5 + v.dx)
  // DejaVu's digits are about 0.73 em tall: this puts their middle at the requested centre.
  const y = v.height * (0.5 + v.dy) + 0.365 * fontSize
  const outline = v.stroke > 0 ? ` stroke="${grey(v.ink)}" stroke-width="${v.stroke}" stroke-linejoin="round"` : ''
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${v.width}" height="${v.height}">
<rect width="100%" height="100%" fill="${grey(v.background)}"/>
<text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${fontSize}" font-weight="${v.bold ? 'bold' : 'normal'}" text-anchor="middle" fill="${grey(v.ink)}"${outline}>${digit}</text>
</svg>`
}

/** Pixels darker than mid-grey in a black-on-white rendering of `text`. */
async function inkOf(text: string): Promise<number> {
  const probe = { ...VARIANTS[0], width: 64, height: 64 }
  const { data } = await sharp(Buffer.from(svg(text, probe))).greyscale().raw().toBuffer({ resolveWithObject: true })
  return data.reduce((count, v) => count + (v < 128 ? 1 : 0), 0)
}

/** Writes 10 digits x VARIANTS.length images into `dir`; a reason instead when no font renders. */
export async function drawDigits(dir: string): Promise<{ digits: DrawnDigit[] } | { reason: string }> {
  const [one, eight] = [await inkOf('1'), await inkOf('8')]
  if (eight < 40) return { reason: `SVG text renders blank (${eight} ink pixels for '8'): no usable font for librsvg` }
  // A missing glyph renders as the same box for every character.
  if (Math.abs(eight - one) < 0.2 * eight) return { reason: `'1' and '8' render alike (${one} vs ${eight} ink pixels): the font has no digit glyphs` }
  const digits: DrawnDigit[] = []
  for (let label = 0; label <= 9; label++) {
    for (const [index, variant] of VARIANTS.entries()) {
      const file = join(dir, `${label}-${index}.${variant.format === 'png' ? 'png' : 'jpg'}`)
      const image = sharp(Buffer.from(svg(String(label), variant)))
      await (variant.format === 'png' ? image.png() : image.jpeg({ quality: 85 })).toFile(file)
      digits.push({ file, label, variant: variant.name })
    }
  }
  return { digits }
}
