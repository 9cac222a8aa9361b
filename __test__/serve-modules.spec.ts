import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import sharp from 'sharp'
import { preprocessMnist, readImage, Rng } from '../src/index'
import { greyFromRgba } from '../src/image/srgb-grey'
import { browserModules } from '../src/serve/browser-modules'
import { scratchDirectories } from './helpers/scratch'

const scratch = scratchDirectories('serve-modules')

function randomRgba(rng: Rng, width: number, height: number, opaque: boolean): Uint8Array {
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0; i < rgba.length; i++) rgba[i] = opaque && i % 4 === 3 ? 255 : rng.nextUint32() & 255
  return rgba
}

test("greyFromRgba() gives the grey plane that predict's decoder reads from a PNG of the same pixels", async (t) => {
  const dir = await scratch('grey')
  const rng = new Rng(3)
  for (const opaque of [true, false]) {
    const [width, height] = [64, 48]
    const rgba = randomRgba(rng, width, height, opaque)
    const file = join(dir, `${opaque ? 'opaque' : 'transparent'}.png`)
    await writeFile(file, await sharp(Buffer.from(rgba), { raw: { width, height, channels: 4 } }).png().toBuffer())
    const decoded = await readImage(file, { channels: 1 })
    const ours = greyFromRgba(rgba, width, height)
    let worst = 0
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - decoded.pixels[i]) * 255)
    // Opaque (all the page hands over: it paints white under everything): libvips' own
    // arithmetic, to the byte. Translucent: libvips flattens in floats, we round the composite first.
    t.true(worst <= (opaque ? 0 : 2), `${opaque ? 'opaque' : 'transparent'} pixels: worst difference ${worst} of 255`)
  }
})

test('the browser script runs convtorch\'s compiled preprocessing and gives what Node computes', (t) => {
  const script = browserModules(['image/mnist-preprocess', 'image/srgb-grey'])
  const window: { convtorchModules?: { require(id: string): Record<string, unknown> } } = {}
  runInNewContext(script, { window })
  const inBrowser = window.convtorchModules!.require('image/mnist-preprocess') as { preprocessMnist: typeof preprocessMnist }
  const rng = new Rng(9)
  const [height, width] = [90, 70]
  const pixels = new Float32Array(height * width).fill(1)
  // A dark blob off centre on white paper: inverted, cropped, fitted, centred.
  for (let y = 20; y < 60; y++) for (let x = 10; x < 30 + (y % 7); x++) pixels[y * width + x] = (rng.nextUint32() & 63) / 255
  const image = { channels: 1 as const, height, width, pixels }
  const expected = preprocessMnist(image)
  const actual = inBrowser.preprocessMnist(image)
  t.false(expected.blank)
  t.deepEqual(Array.from(actual.pixels), Array.from(expected.pixels))
  t.is(actual.inverted, true)
  t.throws(() => inBrowser.preprocessMnist({ ...image, channels: 3 as 1 }), { message: /image\.channels must be 1/ }, "convtorch's typed errors come along")
})

test('browserModules() refuses a module that imports a package or a Node built-in', (t) => {
  t.throws(() => browserModules(['image/decode']), { message: /browser module image\/decode requires 'node:fs\/promises', which a browser cannot load/ })
  t.throws(() => browserModules(['image/no-such-module']), { message: /image\/no-such-module: .* cannot be read/ })
})
