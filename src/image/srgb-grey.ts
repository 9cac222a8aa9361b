// Canvas pixels (RGBA bytes, as getImageData gives them) to the grey plane that decoding a file
// with channels 1 gives, to the byte: sharp's greyscale is libvips' sRGB -> B_W, i.e. Rec. 709
// luminance of the linearised colour, encoded back through a 256-entry table of the sRGB curve
// (rounded to bytes) with linear interpolation between entries, all in float32. Pure
// computation with no Node import: `convtorch serve` sends this module to the page.

const f32 = Math.fround

/** Rounds half to even, as C's rintf does. */
function rint(x: number): number {
  const floor = Math.floor(x)
  const rest = x - floor
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor
}

/** The sRGB curve sampled at linear light i / 255, as byte codes (one guard entry past the end). */
const ENCODE = new Int32Array(257)
/** Each sRGB byte in linear light. */
const DECODE = new Float32Array(256)
for (let i = 0; i < 256; i++) {
  const c = f32(i / 255)
  ENCODE[i] = rint(f32(255 * (c <= 0.0031308 ? f32(12.92 * c) : f32(1.055 * c ** (1 / 2.4) - 0.055))))
  DECODE[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
}
ENCODE[256] = ENCODE[255]

/** The grey byte of one opaque sRGB colour. */
function greyByte(r: number, g: number, b: number): number {
  // Equal channels are a grey already; the sum of the weights is 1.
  if (r === g && g === b) return r
  const y = f32(f32(f32(0.2126 * DECODE[r]) + f32(0.7152 * DECODE[g])) + f32(0.0722 * DECODE[b]))
  const at = Math.min(255, Math.max(0, f32(y * 255)))
  const below = Math.floor(at)
  return rint(f32(ENCODE[below] + f32((ENCODE[below + 1] - ENCODE[below]) * f32(at - below))))
}

/** The grey plane in [0, 1]; transparency is first flattened over white, as decoding a file does. */
export function greyFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height)
  for (let i = 0, j = 0; i < out.length; i++, j += 4) {
    const alpha = rgba[j + 3] / 255
    const over = (c: number) => (alpha === 1 ? c : Math.round(c * alpha + 255 * (1 - alpha)))
    out[i] = greyByte(over(rgba[j]), over(rgba[j + 1]), over(rgba[j + 2])) / 255
  }
  return out
}
