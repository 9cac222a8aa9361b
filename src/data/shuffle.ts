// Seeded shuffling. Each epoch's order depends only on (seed, epoch), so a resumed run and a
// fresh run agree, and two runs with one seed see the same batches.

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: small, fast and well mixed. */
export class Rng {
  private s: Uint32Array

  constructor(seed: number, stream = 0) {
    let x = (Math.floor(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s = Uint32Array.of(next(), next(), next(), next())
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** A uniform integer in [0, bound), without modulo bias. */
  below(bound: number): number {
    const limit = 0x100000000 - (0x100000000 % bound)
    for (;;) {
      const value = this.nextUint32()
      if (value < limit) return value % bound
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** A uniformly random permutation of 0..count-1 (Fisher–Yates). */
export function permutation(count: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  for (let i = count - 1; i > 0; i--) {
    const j = rng.below(i + 1)
    const swap = order[i]
    order[i] = order[j]
    order[j] = swap
  }
  return order
}

/** The example order of one epoch (1-based), a pure function of (seed, epoch, count). */
export function epochOrder(seed: number, epoch: number, count: number): Uint32Array {
  return permutation(count, new Rng(seed, epoch))
}
