/**
 * The one seeded random generator of the project (mulberry32): default stimulus, synthetic layers and the random
 * sweep all draw from it, so the same seed gives the same numbers on every machine. Not for anything secret.
 * (The testbench's stall pattern is a separate xorshift32 written in Verilog: it runs inside the simulator.)
 */

/** A stream of floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator with the draws the project needs, all from one mulberry32 stream. */
export interface Random {
  /** A float in [0, 1). */
  float(): number;
  /** An integer from lo to hi, both included. */
  int(lo: number, hi: number): number;
  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T;
}

export function randomFrom(seed: number): Random {
  const float = mulberry32(seed);
  return {
    float,
    int: (lo, hi) => lo + Math.floor(float() * (hi - lo + 1)),
    pick: (xs) => {
      if (xs.length === 0) throw new Error('pick from an empty list');
      return xs[Math.floor(float() * xs.length)]!;
    },
  };
}
