/**
 * Golden model of the GELU block.
 *
 * The formula (FQ-ViT's Mlp: fc1, GELU on the float result, then the fc1_act quantizer), taken EXACTLY: for the fc1
 * accumulator acc of channel n, y = acc * s_a * s_w[n] + bias[n] with every float64 an exact dyadic rational, and
 *   code = clamp(round_half_even(GELU(y) / s_act) + zp_act, 0, 2^bits - 1),   GELU(y) = y (1 + erf(y / sqrt 2)) / 2.
 * `exactCode` computes it: float64 where the result is certain by a wide margin, a rigorous BigInt enclosure
 * (erf.ts) where it is not.
 *
 * The hardware (what `geluHardware` models bit for bit) needs only an exact integer affine map and comparisons:
 *   z = acc * M[n] + B[n]                        (M[n] ~ s_a s_w[n] 2^F, B[n] ~ bias[n] 2^F: one shared domain, y 2^F)
 *   rising  (z >= Z_split):  code = #{k : R[k] <= z}     (GELU rises right of its minimum, y* ~ -0.7518)
 *   falling (z <  Z_split):  code = #{k : N[k] <= -z}    (N[k] = -(the bound on z), so both tables ascend)
 * with R, N tables of 2^bits - 1 shared bounds each. `buildGeluProgram` chooses F, M, B and the bounds, then PROVES,
 * channel by channel, that the hardware equals `exactCode` for every acc of the accumulator's whole signed range:
 * the true code is monotone on each side of the minimum, the hardware's count is monotone in acc, so they agree
 * everywhere exactly when, for every bound, the acc where the hardware's comparison flips has the exact code on the
 * right side and its neighbour on the other side. Anything it cannot prove is a SpecError.
 */
import { clamp, exactBinary, floorDiv, maxUnsigned, roundHalfEvenDiv, roundHalfEvenNumber } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { ARGMIN_MARGIN, geluArgminFloat, geluEnclosure, geluFloat } from './erf.ts';

/** The float description of one fc1 + GELU + quantizer, as FQ-ViT has it. */
export interface GeluLayer {
  aScale: number;
  /** One weight scale per output channel. */
  wScale: number[];
  /** One float bias per output channel. */
  bias: number[];
  outScale: number;
  outZeroPoint: number;
}

/** Generation-time widths the program must fit (from the spec). */
export interface GeluWidths {
  /** Output code width. */
  bits: number;
  /** Signed accumulator width. */
  accWidth: number;
  /** Width of the unsigned per-channel multiplier M. */
  multBits: number;
  /** Signed width of z and of the table entries (with room for the two sentinels). */
  zWidth: number;
  maxChannels: number;
}

/** Everything the hardware holds for one layer, as integers. */
export interface GeluProgramValues {
  channels: number;
  /** Fraction bits of the shared domain: z ~ y 2^F. */
  fracBits: number;
  split: bigint;
  /** R[1..2^bits - 1] (index 0 is R[1]). */
  rising: bigint[];
  /** N[1..2^bits - 1]. */
  falling: bigint[];
  mult: bigint[];
  offset: bigint[];
}

/** A dyadic rational num / 2^exp. */
interface Dyadic { num: bigint; exp: number }

function dyadic(x: number): Dyadic {
  return exactBinary(x);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : (x < 0n ? -x : x).toString(2).length;
}

function toFloat(d: Dyadic): number {
  const bl = bitLength(d.num);
  if (bl <= 60) return Number(d.num) * 2 ** -d.exp;
  const drop = bl - 60;
  return Number(d.num >> BigInt(drop)) * 2 ** (drop - d.exp);
}

/** a < b for dyadics, exactly. */
function dyadicCompare(a: Dyadic, b: Dyadic): number {
  const e = Math.max(a.exp, b.exp);
  const x = a.num << BigInt(e - a.exp);
  const y = b.num << BigInt(e - b.exp);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Above this |y|, GELU(y) is within |y| e^(-800) of max(y, 0); the enclosure series is only used below it. */
const Y_ASYMPTOTIC = 40;
/** Precisions (bits) the enclosure is tried at before a value is declared undecidable. */
const PRECISIONS = [96, 384, 2560];

/** Exact code evaluation of one layer: y and the rounding of GELU(y) / s_act, decided exactly. */
export class GeluFormula {
  readonly max: bigint;
  /** How many values needed the rigorous enclosure. */
  slowEvaluations = 0;
  private readonly s: Dyadic;
  private readonly zp: bigint;
  private readonly alpha: Dyadic[];
  private readonly beta: Dyadic[];

  constructor(readonly layer: GeluLayer, readonly bits: number) {
    this.max = maxUnsigned(bits);
    this.s = dyadic(layer.outScale);
    this.zp = BigInt(layer.outZeroPoint);
    const a = dyadic(layer.aScale);
    this.alpha = layer.wScale.map((w) => { const d = dyadic(w); return { num: a.num * d.num, exp: a.exp + d.exp }; });
    this.beta = layer.bias.map(dyadic);
  }

  /** y = acc * s_a * s_w[n] + bias[n], exactly. */
  y(acc: bigint, n: number): Dyadic {
    const a = this.alpha[n]!;
    const b = this.beta[n]!;
    const e = Math.max(a.exp, b.exp);
    return { num: acc * a.num * (1n << BigInt(e - a.exp)) + (b.num << BigInt(e - b.exp)), exp: e };
  }

  /** The exact output code of channel n for accumulator acc. */
  code(acc: bigint, n: number): number {
    return Number(this.codeOfY(this.y(acc, n)));
  }

  /** clamp(round_half_even(GELU(y) / s_act) + zp, 0, 2^bits - 1) for an exact y. */
  codeOfY(y: Dyadic): bigint {
    return clamp(this.roundedOfY(y) + this.zp, 0n, this.max);
  }

  /** round_half_even(GELU(y) / s_act), exact; decided in float64 where a wide margin allows. */
  roundedOfY(y: Dyadic): bigint {
    if (y.num === 0n) return 0n;
    const yf = toFloat(y);
    const sf = this.layer.outScale;
    const r = geluFloat(yf) / sf;
    // Float error of r: y's rounding (2^-52 |y|, GELU' < 1.13), GELU's (< 2e-15 (1 + |y|), test/gelu.test.ts), the
    // ops; this margin is 100 times that.
    const margin = 2e-13 * (1 + Math.abs(yf)) / sf;
    const lowest = -Number(this.zp) - 1; // below: the code clamps to 0 whatever the rounding
    const highest = Number(this.max - this.zp) + 1;
    if (r < lowest - margin) return BigInt(lowest);
    if (r > highest + margin) return BigInt(highest);
    if (Math.abs(r - (Math.floor(r) + 0.5)) > margin && Number.isFinite(r)) return BigInt(roundHalfEvenNumber(r));
    return this.roundedExact(y);
  }

  /** The slow path: a rigorous enclosure of GELU(y) / s_act, refined until no rounding tie lies in it. */
  roundedExact(y: Dyadic): bigint {
    this.slowEvaluations++;
    const s = this.s;
    const yAbs = Math.abs(toFloat(y));
    if (yAbs > Y_ASYMPTOTIC) {
      if (y.num < 0n) return 0n; // GELU(y) in (-|y| e^-800, 0): rounds to 0
      // GELU(y) in (y - y e^-800, y): r just below P / Q = y / s.
      const p = y.num << BigInt(s.exp);
      const q = s.num << BigInt(y.exp);
      const twice = 2n * p;
      if (twice >= 1n << 900n) throw new SpecError('gelu.out_scale', 'must keep GELU(y) / s_act below 2^899 for every accumulator', this.layer.outScale);
      if (twice % q === 0n) {
        const h = twice / q; // 2 y / s is an integer
        // y / s an integer: just below it rounds to it; y / s a half-integer: just below it rounds down.
        return h % 2n === 0n ? h / 2n : (h - 1n) / 2n;
      }
      return roundHalfEvenDiv(p, q); // at least 1 / (2q) from a half, far more than y e^-800 / s
    }
    for (const prec of PRECISIONS) {
      const g = geluEnclosure(y.num, y.exp, prec); // GELU(y) 2^prec in [lo, hi]
      // 2r in [A / D, B / D]; a half-integer r is an odd 2r.
      const a = 2n * g.lo << BigInt(s.exp);
      const b = 2n * g.hi << BigInt(s.exp);
      const d = s.num << BigInt(prec);
      let c = -floorDiv(-a, d); // ceil(A / D)
      if (c % 2n === 0n) c += 1n;
      if (c * d > b) return floorDiv(a + d, 2n * d); // no tie inside: the nearest integer
    }
    throw new SpecError('gelu', `GELU(y) / s_act at y = ${toFloat(y)} lies within 2^-${PRECISIONS.at(-1)} of a rounding tie: cannot decide`, toFloat(y));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The hardware's integer model

/** The count #{k : table[k] <= key} over a table sorted ascending, by the hardware's binary search (bits levels). */
export function searchCount(table: readonly bigint[], key: bigint, bits: number): number {
  let pos = 0;
  for (let i = bits - 1; i >= 0; i--) {
    const k = pos + (1 << i); // 1-based bound index
    if (key >= table[k - 1]!) pos = k;
  }
  return pos;
}

/** The shared-domain value of an accumulator: z = acc M[n] + B[n]. */
export function geluZ(p: GeluProgramValues, acc: bigint, n: number): bigint {
  return acc * p.mult[n]! + p.offset[n]!;
}

/** What the hardware outputs for accumulator acc of channel n. */
export function geluHardware(p: GeluProgramValues, acc: bigint, n: number, bits: number): number {
  const z = geluZ(p, acc, n);
  return z >= p.split ? searchCount(p.rising, z, bits) : searchCount(p.falling, -z, bits);
}

/** One element of the input stream. */
export interface GeluBeat {
  acc: bigint;
  last: boolean;
}

/**
 * The hardware's channel of each element of a stream: channels in order from 0, back to 0 after tlast, and after
 * channel C - 1 also without tlast (a token of the wrong length, which the block flags).
 */
export function streamChannels(beats: readonly GeluBeat[], channels: number): number[] {
  let n = 0;
  return beats.map((b) => {
    const here = n;
    n = b.last || n === channels - 1 ? 0 : n + 1;
    return here;
  });
}

/** The golden model of a stream: one output code per input element. */
export function geluStream(p: GeluProgramValues, beats: readonly GeluBeat[], bits: number): number[] {
  const ch = streamChannels(beats, p.channels);
  return beats.map((b, i) => geluHardware(p, b.acc, ch[i]!, bits));
}

// ---------------------------------------------------------------------------------------------------------------
// Building a layer's program, with its proof

/** GELU's smallest value, at y*. */
function geluMin(): { ystar: number; gmin: number } {
  const ystar = geluArgminFloat();
  return { ystar, gmin: geluFloat(ystar) };
}

/** The y > y* (rising) or y < y* (falling) where the float GELU crosses `target`, by bisection. */
function crossing(target: number, rising: boolean, ystar: number): number {
  let inside = ystar; // GELU(inside) < target
  let outside = rising ? 1 : -1;
  if (rising) { while (geluFloat(outside) < target) outside *= 2; } else { while (outside > -64 && geluFloat(outside) < target) outside *= 2; }
  for (let i = 0; i < 2000; i++) {
    const mid = (inside + outside) / 2;
    if (mid === inside || mid === outside) break;
    if (geluFloat(mid) < target) inside = mid; else outside = mid;
  }
  return outside;
}

/** ceil(d * 2^f) and floor(d * 2^f) for a dyadic and f >= 0. */
function scaledCeil(d: Dyadic, f: number): bigint {
  return d.exp <= f ? d.num << BigInt(f - d.exp) : -floorDiv(-d.num, 1n << BigInt(d.exp - f));
}
function scaledFloor(d: Dyadic, f: number): bigint {
  return d.exp <= f ? d.num << BigInt(f - d.exp) : floorDiv(d.num, 1n << BigInt(d.exp - f));
}

export function sentinels(zWidth: number): { min: bigint; max: bigint } {
  return { min: -(1n << BigInt(zWidth - 1)), max: (1n << BigInt(zWidth - 1)) - 1n };
}

/** Statistics of a proof, for the manifest and the tests. */
export interface GeluProof {
  /** Bound comparisons proven (channels x bounds, both branches). */
  bounds: number;
  /** Exact code evaluations made; how many needed the rigorous enclosure. */
  evaluations: number;
  slowEvaluations: number;
}

/**
 * The program of one layer: chooses F (the largest keeping every M[n] below 2^multBits), M[n] = round(s_a s_w[n] 2^F),
 * B[n] = round(bias[n] 2^F), the split at y* 2^F and the bounds ceil(T_k 2^F) where the float GELU crosses each
 * rounding boundary; then proves the hardware equal to the exact formula (see the file comment). Throws SpecError
 * naming the parameter when the layer does not fit the widths or the proof fails.
 */
export function buildGeluProgram(w: GeluWidths, layer: GeluLayer): { values: GeluProgramValues; proof: GeluProof } {
  const channels = layer.wScale.length;
  if (channels < 1 || channels > w.maxChannels) throw new SpecError('gelu layer w_scale', `must have 1 to ${w.maxChannels} channels (max_channels)`, channels);
  if (layer.bias.length !== channels) throw new SpecError('gelu layer bias', `must have ${channels} values, one per channel`, layer.bias.length);
  const positive = (name: string, v: number) => { if (!Number.isFinite(v) || v <= 0) throw new SpecError(name, 'must be a finite number greater than 0', v); };
  positive('gelu layer a_scale', layer.aScale);
  positive('gelu layer out_scale', layer.outScale);
  layer.wScale.forEach((v, n) => positive(`gelu layer w_scale[${n}]`, v));
  layer.bias.forEach((v, n) => { if (!Number.isFinite(v)) throw new SpecError(`gelu layer bias[${n}]`, 'must be a finite number', v); });
  const maxCode = maxUnsigned(w.bits);
  if (!Number.isInteger(layer.outZeroPoint) || layer.outZeroPoint < 0 || layer.outZeroPoint > Number(maxCode)) {
    throw new SpecError('gelu layer out_zero_point', `must be an integer from 0 to ${maxCode}`, layer.outZeroPoint);
  }
  const formula = new GeluFormula(layer, w.bits);
  const a = dyadic(layer.aScale);
  const alphas = layer.wScale.map((s) => { const d = dyadic(s); return { num: a.num * d.num, exp: a.exp + d.exp }; });
  // F: the largest with every round(alpha 2^F) < 2^multBits.
  const multLimit = 1n << BigInt(w.multBits);
  const roundScaled = (d: Dyadic, f: number) => (d.exp <= f ? d.num << BigInt(f - d.exp) : roundHalfEvenDiv(d.num, 1n << BigInt(d.exp - f)));
  const top = alphas.reduce((m, d) => Math.max(m, bitLength(d.num) - d.exp), -Infinity); // floor(log2 alpha) + 1 at most
  let f = w.multBits - top;
  while (alphas.some((d) => roundScaled(d, f) >= multLimit)) f--;
  if (f < 0) throw new SpecError('gelu layer a_scale * w_scale', `must be below 2^${w.multBits - 1} (mult_bits)`, layer.aScale * Math.max(...layer.wScale));
  const mult = alphas.map((d) => roundScaled(d, f));
  mult.forEach((m, n) => { if (m === 0n) throw new SpecError(`gelu layer w_scale[${n}]`, `must be within 2^${w.multBits} of the largest w_scale (mult_bits)`, layer.wScale[n]); });
  const offsetLimit = 1n << BigInt(w.accWidth - 1 + w.multBits);
  const offset = layer.bias.map((b, n) => {
    const v = roundScaled(dyadic(b), f);
    if (v >= offsetLimit || v <= -offsetLimit) throw new SpecError(`gelu layer bias[${n}]`, `must be below 2^(acc_width - 1) * a_scale * max(w_scale) in magnitude (acc_width ${w.accWidth})`, b);
    return v;
  });
  const { min: zMin, max: zMax } = sentinels(w.zWidth);
  const { ystar, gmin } = geluMin();
  const split = roundScaled(dyadic(ystar), f);
  const bound = (d: bigint) => (d < zMin ? zMin : d > zMax ? zMax : d);
  const rising: bigint[] = [];
  const falling: bigint[] = [];
  const zp = layer.outZeroPoint;
  for (let k = 1; k <= Number(maxCode); k++) {
    // code >= k exactly when GELU(y) / s_act rounds to at least k - zp: GELU(y) beyond (k - zp - 1/2) s_act.
    const target = (k - zp - 0.5) * layer.outScale;
    rising.push(target <= gmin ? zMin : bound(scaledCeil(dyadic(crossing(target, true, ystar)), f)));
    falling.push(target <= gmin ? zMin : target >= 0 ? zMax : bound(-scaledFloor(dyadic(crossing(target, false, ystar)), f)));
  }
  for (const [name, t] of [['rising', rising], ['falling', falling]] as const) {
    for (let i = 1; i < t.length; i++) if (t[i]! < t[i - 1]!) throw new Error(`gelu ${name} bounds not ascending at ${i}`);
  }
  const values: GeluProgramValues = { channels, fracBits: f, split, rising, falling, mult, offset };
  const codes = Array.from({ length: channels }, () => new Map<bigint, number>());
  fitBounds(w, formula, values, codes);
  const proof = proveGelu(w, formula, values, ystar, codes);
  return { values, proof };
}

/** The smallest x in [lo, end) with pred(x) (pred false then true on it), or `end`; galloping from `guess`. */
function firstTrue(lo: bigint, end: bigint, guess: bigint, pred: (x: bigint) => boolean): bigint {
  if (lo >= end) return lo;
  const g = clampBig(guess, lo, end - 1n);
  let lowF: bigint; // pred false here, or lo - 1
  let highT: bigint; // pred true here, or end
  if (pred(g)) {
    highT = g;
    let step = 1n;
    while (highT - step >= lo && pred(highT - step)) { highT -= step; step *= 2n; }
    lowF = highT - step >= lo ? highT - step : lo - 1n;
  } else {
    lowF = g;
    let step = 1n;
    while (lowF + step < end && !pred(lowF + step)) { lowF += step; step *= 2n; }
    highT = lowF + step < end ? lowF + step : end;
  }
  while (highT - lowF > 1n) {
    const mid = (lowF + highT) / 2n;
    if (pred(mid)) highT = mid; else lowF = mid;
  }
  return highT;
}

/**
 * Moves each float-estimated bound, where needed, into the range of values that is right for EVERY channel: for
 * channel n the true code steps past k at accumulator h (found by exact evaluation, from the estimate), so a rising
 * bound must lie in [z(h - 1) + 1, z(h)] (a falling one likewise on -z). The estimate is kept when it is already in
 * the intersection; an empty intersection is a SpecError (the proof would fail).
 */
function fitBounds(w: GeluWidths, formula: GeluFormula, p: GeluProgramValues, codes: Array<Map<bigint, number>>): void {
  const accLo = -(1n << BigInt(w.accWidth - 1));
  const accHi = (1n << BigInt(w.accWidth - 1)) - 1n;
  const { min: zMin, max: zMax } = sentinels(w.zWidth);
  const ceilDiv = (x: bigint, d: bigint) => -floorDiv(-x, d);
  const count = p.rising.length;
  const lo = { rising: Array<bigint>(count).fill(zMin), falling: Array<bigint>(count).fill(zMin) };
  const hi = { rising: Array<bigint>(count).fill(zMax), falling: Array<bigint>(count).fill(zMax) };
  for (let n = 0; n < p.channels; n++) {
    const m = p.mult[n]!;
    const b = p.offset[n]!;
    const z = (acc: bigint) => acc * m + b;
    const code = codeOf(formula, n, codes[n]!);
    const s = clampBig(ceilDiv(p.split - b, m), accLo, accHi + 1n);
    for (let k = 1; k <= count; k++) {
      const i = k - 1;
      const h = firstTrue(s, accHi + 1n, ceilDiv(p.rising[i]! - b, m), (acc) => code(acc) >= k);
      if (h <= accHi && z(h) < hi.rising[i]!) hi.rising[i] = z(h);
      if (h > s && z(h - 1n) + 1n > lo.rising[i]!) lo.rising[i] = z(h - 1n) + 1n;
      // Falling, on t = -acc in [-(s - 1), -accLo]: code >= k for t >= -g.
      const t = firstTrue(-(s - 1n), -accLo + 1n, -floorDiv(-p.falling[i]! - b, m), (x) => code(-x) >= k);
      const g = -t;
      if (g >= accLo && -z(g) < hi.falling[i]!) hi.falling[i] = -z(g);
      if (g < s - 1n && -z(g + 1n) + 1n > lo.falling[i]!) lo.falling[i] = -z(g + 1n) + 1n;
    }
  }
  for (const name of ['rising', 'falling'] as const) {
    const table = p[name];
    for (let i = 0; i < count; i++) {
      if (lo[name][i]! > hi[name][i]!) {
        throw new SpecError('gelu layer w_scale', `must let one ${name} bound ${i + 1} serve every channel (its channels' ranges do not overlap); a larger mult_bits may help`, w.multBits);
      }
      table[i] = clampBig(table[i]!, lo[name][i]!, hi[name][i]!);
      if (i > 0 && table[i]! < table[i - 1]!) throw new SpecError('gelu layer', `must give ascending ${name} bounds (bound ${i + 1}); a larger mult_bits may help`, w.multBits);
    }
  }
}

/** Exact codes of channel n, cached. */
function codeOf(formula: GeluFormula, n: number, cache: Map<bigint, number>): (acc: bigint) => number {
  return (acc) => {
    let c = cache.get(acc);
    if (c === undefined) { c = formula.code(acc, n); cache.set(acc, c); }
    return c;
  };
}

/** The proof of buildGeluProgram, channel by channel (see the file comment). */
function proveGelu(w: GeluWidths, formula: GeluFormula, p: GeluProgramValues, ystar: number, codes: Array<Map<bigint, number>>): GeluProof {
  const accLo = -(1n << BigInt(w.accWidth - 1));
  const accHi = (1n << BigInt(w.accWidth - 1)) - 1n;
  const { min: zMin, max: zMax } = sentinels(w.zWidth);
  const yLo = dyadic(ystar - ARGMIN_MARGIN);
  const yHi = dyadic(ystar + ARGMIN_MARGIN);
  const stats: GeluProof = { bounds: 0, evaluations: 0, slowEvaluations: 0 };
  const ceilDiv = (x: bigint, d: bigint) => -floorDiv(-x, d);
  for (let n = 0; n < p.channels; n++) {
    const m = p.mult[n]!;
    const b = p.offset[n]!;
    const code = codeOf(formula, n, codes[n]!);
    const fail = (what: string): never => {
      throw new SpecError(`gelu layer channel ${n}`, `must be provably exact with mult_bits ${w.multBits} (${what}); a larger mult_bits may make it so`, formula.layer.wScale[n]);
    };
    // The extreme z stays strictly between the sentinels.
    for (const acc of [accLo, accHi]) { const z = acc * m + b; if (z <= zMin || z >= zMax) fail('z reaches a sentinel'); }
    // Split: rising for acc >= s. Each side must be truly on its side of the minimum, or the codes around it flat.
    const s = clampBig(ceilDiv(p.split - b, m), accLo, accHi + 1n);
    const leftOk = s - 1n < accLo || dyadicCompare(formula.y(s - 1n, n), yLo) <= 0;
    const rightOk = s > accHi || dyadicCompare(formula.y(s, n), yHi) >= 0;
    if (!leftOk || !rightOk) {
      // Accs within the argmin's uncertainty: every code there and next to it must be the same.
      let first = s;
      while (first - 1n >= accLo && dyadicCompare(formula.y(first - 1n, n), yLo) > 0 && s - first < 4096n) first--;
      let last = s - 1n;
      while (last + 1n <= accHi && dyadicCompare(formula.y(last + 1n, n), yHi) < 0 && last - s < 4096n) last++;
      const around: number[] = [];
      for (let acc = clampBig(first - 1n, accLo, accHi); acc <= clampBig(last + 1n, accLo, accHi); acc++) around.push(code(acc));
      if (around.length > 8000 || around.some((c) => c !== around[0])) fail('codes around the minimum of GELU are not flat');
    }
    for (let k = 1; k <= p.rising.length; k++) {
      // Rising: the hardware says code >= k for acc >= h (within [s, accHi]).
      const h = clampBig(ceilDiv(p.rising[k - 1]! - b, m), s, accHi + 1n);
      if (h > s && code(h - 1n) >= k) fail(`rising bound ${k} too high`);
      if (h <= accHi && code(h) < k) fail(`rising bound ${k} too low`);
      // Falling: -z >= N[k] for acc <= g (within [accLo, s - 1]).
      const g = clampBig(floorDiv(-p.falling[k - 1]! - b, m), accLo - 1n, s - 1n);
      if (g >= accLo && code(g) < k) fail(`falling bound ${k} too high`);
      if (g < s - 1n && code(g + 1n) >= k) fail(`falling bound ${k} too low`);
      stats.bounds += 2;
    }
  }
  stats.evaluations = codes.reduce((k, c) => k + c.size, 0);
  stats.slowEvaluations = formula.slowEvaluations;
  return stats;
}

function clampBig(x: bigint, lo: bigint, hi: bigint): bigint {
  return x < lo ? lo : x > hi ? hi : x;
}
