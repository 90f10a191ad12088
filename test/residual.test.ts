// Residual golden model: hand-worked values, the hardware's integer algorithm against the exact formula over every
// (x, y, channel) of small layers, and resid1 / resid2 of every public encoder case from the reference's own inputs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readEncoderCase, type EncoderCase } from '../generators/encoder/case.ts';
import { buildResidualProgram, residualExact, residualHardware, type ResidualLayer } from '../generators/residual/model.ts';
import { mulberry32 } from '../generators/common/random.ts';

const HAND: ResidualLayer = { xScaleMin: 0.5, xAlpha: [0, 1], xZeroPoint: 3, yScale: 0.25, yZeroPoint: 1, outScaleMin: 0.5, outAlpha: [0, 1], outZeroPoint: 2 };

describe('residual model', () => {
  it('gives hand-worked codes (4 bits; s_x 0.5 * 2^[0,1], zp_x 3; s_y 0.25, zp_y 1; s_out 0.5 * 2^[0,1], zp_out 2)', () => {
    // channel 0, x 5, y 3: (2 * 0.5 + 2 * 0.25) / 0.5 = 3 -> 5;  channel 1, x 4, y 2: (1 * 1 + 1 * 0.25) / 1 = 1.25 -> 1 -> 3
    // ties: ch 0, x 3, y 2: 0.25 / 0.5 = 0.5 -> 0 -> 2;  x 4, y 2: 0.75 / 0.5 = 1.5 -> 2 -> 4;  x 3, y 0: -0.5 -> 0 -> 2
    // x 2, y 1: -0.5 / 0.5 = -1 -> 1;  clamps: ch 1, x 15, y 15: (12 + 3.5) / 1 = 15.5 -> 16 -> 15;  x 0, y 0 -> 0
    const cases: Array<[number, number, number, number]> = [[5, 3, 0, 5], [4, 2, 1, 3], [3, 2, 0, 2], [4, 2, 0, 4], [3, 0, 0, 2], [2, 1, 0, 1], [15, 15, 1, 15], [0, 0, 0, 0]];
    const p = buildResidualProgram({ bits: 4, constBits: 16, maxChannels: 2 }, HAND);
    for (const [x, y, c, want] of cases) {
      expect(residualExact(HAND, 4, x, y, c)).toBe(want);
      expect(residualHardware(p, 4, x, y, c)).toBe(want);
    }
  });

  it.each([2, 3, 4, 6])('hardware algorithm equals the exact formula for every x, y, channel at %i bits', (bits) => {
    const rnd = mulberry32(bits);
    const top = 2 ** bits;
    for (let l = 0; l < 4; l++) {
      const base = (1 + rnd() * 3) / top;
      const alphas = () => Array.from({ length: 16 }, (_, c) => c % 4);
      const layer: ResidualLayer = {
        xScaleMin: base * (0.5 + rnd()), xAlpha: alphas(), xZeroPoint: Math.floor(rnd() * top),
        yScale: base * (0.5 + rnd() * 2), yZeroPoint: Math.floor(rnd() * top),
        outScaleMin: l === 0 ? base : base * (0.5 + rnd()), outAlpha: alphas().reverse(), outZeroPoint: Math.floor(rnd() * top),
      };
      if (l === 1) layer.yScale = layer.xScaleMin / 2; // exact ties occur
      const p = buildResidualProgram({ bits, constBits: 64, maxChannels: 16 }, layer);
      let mismatches = 0;
      for (let c = 0; c < 16; c++) for (let x = 0; x < top; x++) for (let y = 0; y < top; y++) {
        if (residualHardware(p, bits, x, y, c) !== residualExact(layer, bits, x, y, c)) mismatches++;
      }
      expect(mismatches).toBe(0);
    }
  });

  it('refuses constants wider than const_bits and bad alphas / zero points, naming the parameter', () => {
    expect(() => buildResidualProgram({ bits: 8, constBits: 40, maxChannels: 2 }, { ...HAND, yScale: 0.1 })).toThrow(/const_bits/);
    expect(() => buildResidualProgram({ bits: 4, constBits: 16, maxChannels: 2 }, { ...HAND, xAlpha: [0, 4] })).toThrow(/x_alpha\[1\]/);
    expect(() => buildResidualProgram({ bits: 4, constBits: 16, maxChannels: 2 }, { ...HAND, outZeroPoint: 16 })).toThrow(/out_zero_point/);
    expect(() => buildResidualProgram({ bits: 4, constBits: 16, maxChannels: 1 }, HAND)).toThrow(/max_channels/);
  });
});

const encoder = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

/** The two residual layers of an encoder case: resid1 = in + proj_out, resid2 = resid1 + fc2_out. */
export function encoderResidualLayers(c: EncoderCase) {
  const q = c.quantizers;
  const layer = (x: 'in' | 'resid1', y: 'proj_out' | 'fc2_out', o: 'resid1' | 'resid2'): ResidualLayer => ({
    xScaleMin: q[x].scaleMin, xAlpha: q[x].alpha, xZeroPoint: q[x].zeroPoint,
    yScale: q[y].scale, yZeroPoint: q[y].zeroPoint,
    outScaleMin: q[o].scaleMin, outAlpha: q[o].alpha, outZeroPoint: q[o].zeroPoint,
  });
  return [
    { name: 'resid1', layer: layer('in', 'proj_out', 'resid1'), x: c.inputs, y: c.intermediate.proj_out, out: c.intermediate.resid1 },
    { name: 'resid2', layer: layer('resid1', 'fc2_out', 'resid2'), x: c.intermediate.resid1, y: c.intermediate.fc2_out, out: c.intermediate.resid2 },
  ];
}

describe('residual model against the public encoder cases', () => {
  it.each(encoder.cases.map((c, i) => ({ i, c })))('case $i: resid1 and resid2, 0 mismatches', ({ c: raw }) => {
    const c = readEncoderCase(raw);
    for (const name of ['in', 'resid1', 'resid2'] as const) {
      const q = c.quantizers[name];
      q.scales.forEach((s, ch) => expect(s).toBe(q.scaleMin * 2 ** q.alpha[ch]!)); // the PTF scales are what the model assumes
    }
    for (const r of encoderResidualLayers(c)) {
      const p = buildResidualProgram({ bits: c.aBits, constBits: 64, maxChannels: c.dim }, r.layer);
      let mismatches = 0;
      for (let t = 0; t < c.tokens; t++) for (let ch = 0; ch < c.dim; ch++) {
        if (residualHardware(p, c.aBits, r.x[t]![ch]!, r.y[t]![ch]!, ch) !== r.out[t]![ch]) mismatches++;
      }
      expect(mismatches, r.name).toBe(0);
    }
  }, 60_000);
});
