/**
 * Measures how many outputs of the integer datapath differ from FQ-ViT's float64 forward as the reciprocal square
 * root narrows: `npx tsx generators/layernorm/measure.ts [VECTOR_FILE] [TOKENS_PER_CASE]`. For every layernorm case
 * of the file it uses the case's layer, on the case's inputs and on seeded random tokens (four spreads), and prints
 * one line per rsqrt width. The default rsqrt_bits (spec.ts) was chosen from this table.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fqvitLayernormToken } from './fqvit-float.ts';
import { layernormTokenUnclamped } from './model.ts';
import { mulberry32 } from '../common/random.ts';
import { channelConstants, derivePrecision, type CalibratedLayer } from './spec.ts';

export interface RsqrtMeasurement {
  rsqrtBits: number;
  elements: number;
  mismatches: number;
  maxAbsDiff: number;
}

export function measureRsqrtBits(cases: Array<Record<string, unknown>>, widths: number[], tokensPerCase: number, seed = 2024): RsqrtMeasurement[] {
  return widths.map((F) => {
    const rnd = mulberry32(seed);
    let elements = 0;
    let mismatches = 0;
    let maxAbsDiff = 0;
    for (const c of cases.filter((x) => x.block === 'layernorm')) {
      const bits = c.in_bits as number;
      const channels = c.channels as number;
      const layer: CalibratedLayer = {
        inScaleMin: c.in_scale_min as number, zeroPoint: c.zero_point as number, alpha: c.alpha as number[], gamma: c.gamma as number[],
        beta: c.beta as number[], outScale: c.out_scale as number, outZeroPoint: c.out_zero_point as number,
      };
      const precision = derivePrecision(bits, channels, F);
      const model = { bits, zeroPoint: layer.zeroPoint, outZeroPoint: layer.outZeroPoint, channels: channelConstants(layer, channels, precision, 1000), precision };
      const qmax = 2 ** bits - 1;
      const tokens = [...(c.inputs as number[][])];
      for (let t = 0; t < tokensPerCase; t++) {
        const spread = [qmax, qmax / 8, 2, 1.5][t % 4]!;
        const center = t % 4 === 3 ? rnd() * qmax : layer.zeroPoint;
        tokens.push(Array.from({ length: channels }, () => Math.max(0, Math.min(qmax, Math.round(center + (rnd() - 0.5) * 2 * spread)))));
      }
      for (const row of tokens) {
        if (new Set(row).size === 1) continue; // FQ-ViT divides by zero there
        const y = layernormTokenUnclamped(row, model);
        fqvitLayernormToken(row, layer).forEach((f, ch) => {
          const d = Math.abs(Number(y[ch]!) - f);
          elements++;
          if (d) mismatches++;
          maxAbsDiff = Math.max(maxAbsDiff, d);
        });
      }
    }
    return { rsqrtBits: F, elements, mismatches, maxAbsDiff };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] || fileURLToPath(new URL('../../../shared/vectors/fqvit-public.json', import.meta.url));
  const tokens = Number(process.argv[3] ?? 200);
  const cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: Array<Record<string, unknown>> }).cases;
  for (const m of measureRsqrtBits(cases, [12, 14, 16, 18, 20, 24, 28, 32], tokens)) {
    process.stdout.write(`rsqrt_bits ${String(m.rsqrtBits).padStart(2)}: ${m.mismatches} of ${m.elements} outputs differ from FQ-ViT (${(m.mismatches / m.elements).toExponential(2)}), max |diff| ${m.maxAbsDiff}\n`);
  }
}
