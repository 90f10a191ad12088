/**
 * PTF calibration: a TypeScript port of FQ-ViT's PtfObserver (models/ptq/observer/ptf.py) in float64, with the same
 * operation order as PyTorch so that the scale choice (argmin over four mean squared errors, first wins on a tie) is
 * the same. Input: calibration rows of C floats (samples × channels); output: alpha per channel, s1 and the zero point.
 */
import { roundHalfEvenNumber } from '../common/arith.ts';

/** torch.finfo(torch.float32).eps, FQ-ViT's lower bound on a scale. */
export const FLOAT32_EPS = 2 ** -23;

export interface PtfCalibration {
  /** Power-of-two factor per channel: channel scale = s1 * 2^alpha. */
  alpha: number[];
  /** The smallest scale, s8 / 8. */
  s1: number;
  /** Zero point shared by all channels, in [0, 2^bits - 1]. */
  zeroPoint: number;
}

/**
 * Sum of float64 values in the order of PyTorch's CPU sum kernel (ATen SumKernel.cpp, cascade_sum, contiguous inner
 * reduction): `lanes`-wide vectors are summed by row_sum (four interleaved accumulators, multi-level cascade), the
 * scalar tail is added to a zero, then the vector's lanes one by one. `lanes` is Vectorized<double>::size(): 4 with
 * AVX2, 8 with AVX-512. Float addition is not associative, so this order decides near-ties between PTF scores.
 */
export function sumLikeTorch(values: readonly number[], lanes = TORCH_DOUBLE_LANES): number {
  const n = values.length;
  if (n < lanes) return rowSum((i) => values[i]!, n, 1)[0]!;
  const vectors = Math.floor(n / lanes);
  const vecAcc = rowSum((v) => values.slice(v * lanes, v * lanes + lanes), vectors, lanes);
  let acc = 0;
  for (let k = vectors * lanes; k < n; k++) acc += values[k]!;
  for (const lane of vecAcc) acc += lane;
  return acc;
}

/** Lanes of Vectorized<double> in the PyTorch build that produced the vectors (AVX2). */
export const TORCH_DOUBLE_LANES = 4;

/** ATen row_sum: `size` items (each `width` lanes, added lane-wise) through multi_row_sum with 4 interleaved rows. */
function rowSum(load: (i: number) => number[] | number, size: number, width: number): number[] {
  const item = (i: number): number[] => { const v = load(i); return typeof v === 'number' ? [v] : v; };
  const add = (a: number[], b: number[]) => { for (let l = 0; l < width; l++) a[l]! += b[l]!; };
  const zero = () => new Array<number>(width).fill(0);
  const ilp = 4;
  const sizeIlp = Math.floor(size / ilp);
  const partial = multiRowSum((i, k) => item(i * ilp + k), sizeIlp, ilp, width);
  for (let i = sizeIlp * ilp; i < size; i++) add(partial[0]!, item(i));
  for (let k = 1; k < ilp; k++) add(partial[0]!, partial[k]!);
  return partial[0] ?? zero();
}

/** ATen multi_row_sum: a four-level cascade of `nrows` accumulators over `size` steps. */
function multiRowSum(load: (i: number, k: number) => number[], size: number, nrows: number, width: number): number[][] {
  const levels = 4;
  const levelPower = Math.max(4, Math.floor(ceilLog2(size) / levels));
  const levelStep = 2 ** levelPower;
  const levelMask = levelStep - 1;
  const acc = Array.from({ length: levels }, () => Array.from({ length: nrows }, () => new Array<number>(width).fill(0)));
  const add = (a: number[], b: number[]) => { for (let l = 0; l < width; l++) a[l]! += b[l]!; };
  let i = 0;
  while (i + levelStep <= size) {
    for (let j = 0; j < levelStep; j++, i++) for (let k = 0; k < nrows; k++) add(acc[0]![k]!, load(i, k));
    for (let j = 1; j < levels; j++) {
      for (let k = 0; k < nrows; k++) { add(acc[j]![k]!, acc[j - 1]![k]!); acc[j - 1]![k]!.fill(0); }
      if ((i & (levelMask * 2 ** (j * levelPower))) !== 0) break;
    }
  }
  for (; i < size; i++) for (let k = 0; k < nrows; k++) add(acc[0]![k]!, load(i, k));
  for (let j = 1; j < levels; j++) for (let k = 0; k < nrows; k++) add(acc[0]![k]!, acc[j]![k]!);
  return acc[0]!;
}

/** c10 CeilLog2 (0 for 0 and 1). */
function ceilLog2(n: number): number {
  return n <= 1 ? 0 : Math.ceil(Math.log2(n));
}

/** Mean squared error between data and its quantize-dequantize with `scale` (FQ-ViT lp_loss, p = 2, 'all'). */
function quantError(data: readonly number[], scale: number, zeroPoint: number, qmax: number, sum: (v: number[]) => number): number {
  const sq = data.map((x) => {
    let q = roundHalfEvenNumber(x / scale + zeroPoint);
    q = q < 0 ? 0 : q > qmax ? qmax : q;
    const dq = (q - zeroPoint) * scale;
    const d = Math.abs(x - dq);
    return d * d;
  });
  return sum(sq) / sq.length;
}

/** Runs the PTF observer on `rows` (each row one sample of C channels) for unsigned `bits`-wide codes. */
export function calibratePtf(rows: readonly (readonly number[])[], bits: number, sum: (v: number[]) => number = sumLikeTorch): PtfCalibration {
  const channels = rows[0]!.length;
  const qmin = 0;
  const qmax = 2 ** bits - 1;
  let max = -Infinity;
  let min = Infinity;
  for (const row of rows) for (const v of row) { if (v > max) max = v; if (v < min) min = v; }
  let s8 = (max - min) / (qmax - qmin);
  if (s8 < FLOAT32_EPS) s8 = FLOAT32_EPS;
  const s4 = s8 / 2;
  const s2 = s4 / 2;
  const s1 = s2 / 2;
  let zeroPoint = qmin - roundHalfEvenNumber(min / s8);
  zeroPoint = zeroPoint < qmin ? qmin : zeroPoint > qmax ? qmax : zeroPoint;
  const alpha: number[] = [];
  for (let c = 0; c < channels; c++) {
    const data = rows.map((r) => r[c]!);
    const scores = [s1, s2, s4, s8].map((s) => quantError(data, s, zeroPoint, qmax, sum));
    let best = 0;
    for (let k = 1; k < 4; k++) if (scores[k]! < scores[best]!) best = k;
    alpha.push(best);
  }
  return { alpha, s1, zeroPoint };
}
