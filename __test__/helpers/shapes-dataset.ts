// An RGB dataset drawn here: circles, squares and triangles of random colours, sizes and positions
// on random backgrounds, rendered from SVG by sharp (librsvg), seeded, in the image-folder layout.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { Rng } from '../../src/index'

export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const

export interface ShapesOptions {
  dir: string
  /** Images per class and split, e.g. { train: 20, test: 5 }; one split when `layout` is 'classes'. */
  perClass: Partial<Record<'train' | 'test' | 'val', number>>
  /** 'splits': DIR/<split>/<class>/...; 'classes': DIR/<class>/... (only perClass.train is used). */
  layout?: 'splits' | 'classes'
  size?: number
  seed?: number
  /** 'mixed': PNG and JPEG alternately; default 'mixed'. */
  format?: 'png' | 'jpeg' | 'mixed'
}

export interface ShapeImage {
  file: string
  split: 'train' | 'test' | 'val'
  label: number
  /** The drawn pixels, planar [3, size, size]: what a PNG decodes to exactly. */
  pixels: Uint8Array
}

function colour(rng: Rng): [number, number, number] {
  return [rng.below(256), rng.below(256), rng.below(256)]
}

function distance(a: number[], b: number[]): number {
  return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2])
}

function shapeSvg(label: number, size: number, rng: Rng): string {
  const background = colour(rng)
  let ink = colour(rng)
  // A shape must stand out from its background, or its class cannot be learned.
  while (distance(ink, background) < 200) ink = colour(rng)
  const extent = Math.round(size * (0.35 + 0.4 * (rng.below(1000) / 1000)))
  const x = rng.below(size - extent + 1)
  const y = rng.below(size - extent + 1)
  const fill = `rgb(${ink.join(',')})`
  const body =
    label === 0
      ? `<circle cx="${x + extent / 2}" cy="${y + extent / 2}" r="${extent / 2}" fill="${fill}"/>`
      : label === 1
        ? `<rect x="${x}" y="${y}" width="${extent}" height="${extent}" fill="${fill}"/>`
        : `<polygon points="${x + extent / 2},${y} ${x + extent},${y + extent} ${x},${y + extent}" fill="${fill}"/>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="rgb(${background.join(',')})"/>${body}</svg>`
}

function planar(hwc: Uint8Array, plane: number): Uint8Array {
  const out = new Uint8Array(3 * plane)
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = hwc[3 * i + c]
  return out
}

/** Writes the images; returns them in the order an image folder lists them (split, class, file name). */
export async function writeShapes(options: ShapesOptions): Promise<ShapeImage[]> {
  const { dir, perClass, layout = 'splits', size = 32, seed = 1, format = 'mixed' } = options
  const rng = new Rng(seed)
  const splits = layout === 'classes' ? (['train'] as const) : (['train', 'test', 'val'] as const).filter((s) => perClass[s])
  const images: ShapeImage[] = []
  let n = 0
  for (const split of splits) {
    for (const [label, name] of SHAPE_CLASSES.entries()) {
      const folder = layout === 'classes' ? join(dir, name) : join(dir, split, name)
      await mkdir(folder, { recursive: true })
      for (let i = 0; i < (perClass[split] ?? 0); i++) {
        const raw = await sharp(Buffer.from(shapeSvg(label, size, rng))).removeAlpha().raw().toBuffer()
        const jpeg = format === 'jpeg' || (format === 'mixed' && n++ % 2 === 1)
        const file = join(folder, `${String(i).padStart(5, '0')}.${jpeg ? 'jpg' : 'png'}`)
        const encoder = sharp(raw, { raw: { width: size, height: size, channels: 3 } })
        await writeFile(file, await (jpeg ? encoder.jpeg({ quality: 90 }) : encoder.png()).toBuffer())
        images.push({ file, split, label, pixels: planar(raw, size * size) })
      }
    }
  }
  return images
}
