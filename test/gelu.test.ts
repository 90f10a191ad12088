// GELU golden model: hand-worked values, the float erf against the rigorous enclosure, the hardware's integer
// program proven equal to the exact formula (and checked exhaustively over every accumulator of small layers), and
// fc1_act of every public encoder case reproduced from norm2_out through the exact fc1 accumulators.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clog2 } from '../generators/common/arith.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { erfFloat, geluArgminFloat, geluEnclosure, geluFloat } from '../generators/gelu/erf.ts';
import { GeluFormula, buildGeluProgram, geluHardware, type GeluLayer, type GeluWidths } from '../generators/gelu/model.ts';
import { accumulate } from '../generators/gemm/model.ts';
import { mulberry32 } from '../generators/common/random.ts';

const widths = (bits: number, accWidth: number, multBits = 48, maxChannels = 64): GeluWidths => ({ bits, accWidth, multBits, zWidth: accWidth + multBits + 2, maxChannels });

describe('GELU formula', () => {
  it('gives hand-worked codes (s_a 0.5, s_w 0.25, bias 0, s_act 0.125, zp 2, 4 bits)', () => {
    // y = acc / 8. GELU(1) = 0.841345 -> 6.73 -> 7 + 2 = 9; GELU(0.5) = 0.345731 -> 2.77 -> 3 + 2 = 5;
    // GELU(-0.75) = -0.169971 -> -1.36 -> -1 + 2 = 1; GELU(0) = 0 -> 2; y = 125 -> 1000 + 2, clamped to 15;
    // y = -125: GELU ~ -0 -> 0 + 2 = 2.
    const f = new GeluFormula({ aScale: 0.5, wScale: [0.25], bias: [0], outScale: 0.125, outZeroPoint: 2 }, 4);
    expect([8n, 4n, -6n, 0n, 1000n, -1000n].map((a) => f.code(a, 0))).toEqual([9, 5, 1, 2, 15, 2]);
  });

  it('float erf agrees with known values and with the rigorous enclosure', () => {
    expect(erfFloat(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erfFloat(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erfFloat(3.5)).toBeCloseTo(0.9999992569016276, 15);
    expect(geluArgminFloat()).toBeCloseTo(-0.751791524693564, 12);
    const rnd = mulberry32(5);
    for (let i = 0; i < 308; i++) {
      const y = (rnd() - 0.5) * (i < 300 ? 24 : 76); // and a few up to |y| < 38, where the enclosure series is used
      const num = BigInt(Math.round(y * 2 ** 40));
      const yy = Number(num) / 2 ** 40;
      const g = geluEnclosure(num, 40, 120);
      const lo = Number(g.lo) / 2 ** 120;
      const hi = Number(g.hi) / 2 ** 120;
      expect(hi - lo).toBeLessThan(1e-30);
      expect(Math.abs(geluFloat(yy) - lo)).toBeLessThan(2e-15 * (1 + Math.abs(yy))); // the fast path's margin is 100 times this
    }
  });

  it('decides values the float cannot (the slow path) the same way as the fast one where both apply', () => {
    const layer: GeluLayer = { aScale: 0.031, wScale: [0.0071], bias: [0.013], outScale: 0.0213, outZeroPoint: 9 };
    const f = new GeluFormula(layer, 8);
    for (let acc = -5000n; acc <= 5000n; acc += 37n) {
      expect(Number(f.roundedExact(f.y(acc, 0)))).toBe(Number(f.roundedOfY(f.y(acc, 0))));
    }
  });
});

/** A random layer whose accumulator range spans y in about [-12, 12] (so both branches and most codes occur). */
function randomLayer(rnd: () => number, channels: number, bits: number, accWidth: number): GeluLayer {
  const outScale = (4 + rnd() * 4) / 2 ** bits;
  const aScale = 0.02 + rnd() * 0.05;
  const alpha = () => (6 + rnd() * 6) / 2 ** (accWidth - 1);
  return {
    aScale,
    wScale: Array.from({ length: channels }, () => alpha() / aScale),
    bias: Array.from({ length: channels }, () => (rnd() - 0.5) * 2),
    outScale,
    outZeroPoint: Math.round(0.17 / outScale) + Math.floor(rnd() * 3),
  };
}

describe('GELU program: the hardware equals the exact formula', () => {
  it.each([
    { bits: 4, accWidth: 10, channels: 6, multBits: 24, seed: 1 },
    { bits: 3, accWidth: 9, channels: 4, multBits: 16, seed: 2 },
    { bits: 6, accWidth: 12, channels: 3, multBits: 32, seed: 3 },
    { bits: 8, accWidth: 12, channels: 2, multBits: 40, seed: 4 },
  ])('exhaustively over every accumulator: $bits bits, acc $accWidth bits, $channels channels, M $multBits bits', (c) => {
    const rnd = mulberry32(c.seed);
    const w = widths(c.bits, c.accWidth, c.multBits);
    for (let layerIndex = 0; layerIndex < 3; layerIndex++) {
      const layer = randomLayer(rnd, c.channels, c.bits, c.accWidth);
      const { values } = buildGeluProgram(w, layer);
      const f = new GeluFormula(layer, c.bits);
      let mismatches = 0;
      const seen = new Set<number>();
      for (let n = 0; n < c.channels; n++) {
        for (let acc = -(1n << BigInt(c.accWidth - 1)); acc < 1n << BigInt(c.accWidth - 1); acc++) {
          const code = f.code(acc, n);
          seen.add(code);
          if (geluHardware(values, acc, n, c.bits) !== code) mismatches++;
        }
      }
      expect(mismatches).toBe(0);
      expect(seen.size).toBeGreaterThan(2 ** c.bits / 3); // the sweep covers most codes
    }
  });

  it('refuses a layer it cannot fit: a bias beyond the accumulator range, a w_scale far below the others', () => {
    const w = widths(4, 10, 16);
    expect(() => buildGeluProgram(w, { aScale: 0.1, wScale: [0.01], bias: [1e9], outScale: 0.1, outZeroPoint: 2 })).toThrow(/bias\[0\]/);
    expect(() => buildGeluProgram(w, { aScale: 0.1, wScale: [0.01, 1e-9], bias: [0, 0], outScale: 0.1, outZeroPoint: 2 })).toThrow(/w_scale\[1\]|channel 1/);
    expect(() => buildGeluProgram(w, { aScale: 0.1, wScale: [0.01], bias: [0], outScale: 0.1, outZeroPoint: 16 })).toThrow(/out_zero_point/);
  });
});

const encoder = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

/** The GELU layer of an encoder case: fc1's scales and bias, the fc1_act quantizer. */
export function encoderGeluLayer(c: ReturnType<typeof readEncoderCase>): GeluLayer {
  return {
    aScale: c.quantizers.norm2_out.scale, wScale: c.layers.fc1.wScale, bias: c.layers.fc1.bias,
    outScale: c.quantizers.fc1_act.scale, outZeroPoint: c.quantizers.fc1_act.zeroPoint,
  };
}

describe('GELU model against the public encoder cases (fc1_act from norm2_out)', () => {
  it.each(encoder.cases.map((c, i) => ({ i, c })))('case $i: 0 mismatches', ({ c: raw }) => {
    const c = readEncoderCase(raw);
    const accWidth = clog2(c.dim) + c.aBits + c.wBits;
    const { values, proof } = buildGeluProgram(widths(c.aBits, accWidth, 48, c.mlpHidden), encoderGeluLayer(c));
    expect(proof.bounds).toBe(2 * c.mlpHidden * (2 ** c.aBits - 1));
    const acc = accumulate(c.intermediate.norm2_out, c.layers.fc1.w, c.quantizers.norm2_out.zeroPoint);
    let mismatches = 0;
    acc.forEach((row, t) => row.forEach((a, n) => { if (geluHardware(values, a, n, c.aBits) !== c.intermediate.fc1_act[t]![n]) mismatches++; }));
    expect(mismatches).toBe(0);
  }, 60_000);
});
