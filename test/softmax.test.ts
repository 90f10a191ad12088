// LIS softmax: spec validation, hand-worked model cases, the float64-vs-exact argument on random and adversarial
// pairs, and the golden model against FQ-ViT's reference outputs (every softmax element of the public vectors).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roundHalfEvenNumber } from '../generators/common/arith.ts';
import { SpecError } from '../generators/common/errors.ts';
import { expEntry, expOf, expTable, lisConstants, log2RoundCode, logRound, softmaxRow, splitRows } from '../generators/softmax/model.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { defaultStimulus, softmaxBlock } from '../generators/softmax/index.ts';
import { softmaxProgram } from '../generators/softmax/program.ts';
import { emitSoftmaxRtl } from '../generators/softmax/rtl.ts';
import { resolveSoftmax, softmaxLayer } from '../generators/softmax/spec.ts';

const VECTORS = new URL('../../shared/vectors/fqvit-public.json', import.meta.url);

function specError(f: () => unknown): SpecError {
  try {
    f();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('softmax spec', () => {
  it('defaults: in_bits from --bits, 4-bit codes, L = 197, n = 30, scale 8 / 2^bits', () => {
    const s = resolveSoftmax(4, undefined);
    expect(s.params).toEqual({ in_bits: 4, out_bits: 4, scale: 0.5, min_scale: 0.5, max_length: 197, n: 30, lanes: 1 });
    expect(resolveSoftmax(8, undefined).params.scale).toBe(1 / 32);
    expect(resolveSoftmax(2, undefined).params.scale).toBe(1);
    // Wide inputs: 8 / 2^bits would break the 2^52 bound at L = 197; the default doubles until it holds.
    expect(resolveSoftmax(12, undefined).params.scale).toBe(1 / 64);
    expect(resolveSoftmax(16, undefined).params.scale).toBe(1 / 64);
    expect(Object.isFrozen(s) && Object.isFrozen(s.derived) && Object.isFrozen(s.table)).toBe(true);
  });

  it('derives widths that hold the largest e and the largest row sum, and no more', () => {
    const s = resolveSoftmax(8, { scale: 0.02099609375, out_bits: 8 });
    const eMax = s.table.reduce((m, t) => (t.e > m ? t.e : m), 0n);
    expect(eMax).toBe(s.constants.c << 30n); // x = 0: k = 0, r = 0, z = c
    expect(s.derived.elemMax).toBe(eMax);
    expect(s.derived.sumMax).toBe(eMax * 197n);
    expect(2n ** BigInt(s.derived.sumWidth - 1) <= s.derived.sumMax && s.derived.sumMax < 2n ** BigInt(s.derived.sumWidth)).toBe(true);
    expect(2n ** BigInt(s.derived.elemWidth - 1) <= eMax && eMax < 2n ** BigInt(s.derived.elemWidth)).toBe(true);
    expect(2 ** s.derived.ringAddrWidth).toBeGreaterThanOrEqual(3 * 197 + 32);
  });

  it.each([
    [{ in_bits: 17 }, 'softmax.in_bits', 'from 2 to 16'],
    [{ in_bits: 1 }, 'softmax.in_bits', 'from 2 to 16'],
    [{ in_bits: 16, scale: 0.001, max_length: 1 }, 'softmax.scale', 'at most 4096'],
    [{ out_bits: 0 }, 'softmax.out_bits', 'from 1 to 8'],
    [{ out_bits: 9 }, 'softmax.out_bits', 'from 1 to 8'],
    [{ max_length: 0 }, 'softmax.max_length', 'from 1 to 4096'],
    [{ max_length: 2.5 }, 'softmax.max_length', 'from 1 to 4096'],
    [{ n: 31 }, 'softmax.n', 'from 1 to 30'],
    [{ scale: -0.1 }, 'softmax.scale', 'greater than 0'],
    [{ scale: 'big' }, 'softmax.scale', 'greater than 0'],
    [{ scale: 2 }, 'softmax.scale', 'at least 1'],
    [{ scale: 1e-9 }, 'softmax.scale', 'below 2^53'],
    [{ scale: 1e-200 }, 'softmax.scale', 'below 2^53'], // s^2 underflows: c would be Infinity
    [{ sclae: 0.1 }, 'softmax.sclae', 'is not a parameter'],
    // The layer range: the default layer must lie in it, and its worst case (min_scale) must fit the hardware limits.
    [{ scale: 0.25, min_scale: 0.5 }, 'softmax.scale', 'from min_scale 0.5'],
    [{ in_bits: 16, scale: 0.01, min_scale: 0.001, max_length: 1 }, 'softmax.min_scale', 'at most 4096'],
    [{ min_scale: 1e-9, scale: 0.1 }, 'softmax.min_scale', 'below 2^53'],
    [{ min_scale: 2 }, 'softmax.min_scale', 'at least 1'],
    [{ min_scale: 0 }, 'softmax.min_scale', 'greater than 0'],
  ])('rejects %j naming %s', (overrides, parameter, allowed) => {
    const err = specError(() => resolveSoftmax(8, overrides));
    expect(err.parameter).toBe(parameter);
    expect(err.message).toContain(allowed);
  });

  it('records whether every row provably matches FQ-ViT in float64 (floatExactBound), without limiting the hardware', () => {
    // 12-bit inputs at scale 0.0234375: x0 = -30, the table reaches the clamp k = n (e = c, a multiple of 2^0 only), so
    // the limit is 2^52 itself; c = 5082, e_max = c * 2^30, 2^52 / e_max = 825.4.
    const atLimit = resolveSoftmax(12, { scale: 0.0234375, max_length: 825 });
    expect(atLimit.derived.floatExactLimit).toBe(2n ** 52n);
    expect(atLimit.derived.sumMax < 2n ** 52n && atLimit.derived.floatExactBound).toBe(true);
    const past = resolveSoftmax(12, { scale: 0.0234375, max_length: 826 });
    expect(past.derived.sumMax >= 2n ** 52n && !past.derived.floatExactBound).toBe(true);
    expect(past.derived.sumWidth).toBe(53);
    // 8-bit inputs at scale 0.005 (L = 197): the largest row sum passes 2^52, but every e is a multiple of 2^29
    // (k <= floor(255 / 139) = 1), so float64 stays exact up to 2^81.
    const small = resolveSoftmax(8, { scale: 0.005 });
    expect(small.derived.sumMax >= 2n ** 52n).toBe(true);
    expect(small.derived.floatExactLimit).toBe(2n ** 81n);
    expect(small.derived.floatExactBound).toBe(true);
    const manifest = JSON.parse(emitSoftmaxRtl(past).get('manifest.json')!);
    expect(manifest.derived.default_layer.float_exact_bound).toBe(false);
    expect(manifest.derived.default_layer.float_exact_limit).toBe(String(2n ** 52n));
    // It depends on the layer, not on the hardware: the same instance holds a layer with and one without the bound,
    // and each program's JSON says which.
    const wide = resolveSoftmax(12, { scale: 0.05, min_scale: 0.0234375, max_length: 826 });
    expect(wide.layer.floatExactBound).toBe(true);
    expect(softmaxLayer(wide, 0.0234375).floatExactBound).toBe(false);
    expect(softmaxProgram(wide, softmaxLayer(wide, 0.0234375)).values.float_exact_bound).toBe(false);
    // The default scale always keeps the largest row sum below 2^52.
    for (const bits of [2, 4, 8, 12, 16]) for (const L of [1, 197, 4096]) {
      expect(resolveSoftmax(bits, { max_length: L }).derived.sumMax < 2n ** 52n).toBe(true);
    }
  });

  it('generates the same bytes from the same spec', () => {
    const a = softmaxBlock.generate(resolveSoftmax(4, undefined));
    const b = softmaxBlock.generate(resolveSoftmax(4, undefined));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [p, t] of a) expect(b.get(p)).toBe(t);
    const manifest = JSON.parse(a.get('rtl/manifest.json')!);
    expect(manifest.top).toBe('softmax_lis');
    expect(manifest.files.sort()).toEqual([...emitSoftmaxRtl(resolveSoftmax(4, undefined)).keys()].filter((f) => f.endsWith('.v')).sort());
    expect(manifest.throughput.elements_per_cycle).toBe(1);
    expect(manifest.parameters).toEqual([]);
    expect(manifest.errors.map((e: { bit: number; name: string }) => `${e.bit} ${e.name}`)).toEqual(['0 config_range', '1 config_length', '2 no_program']);
    expect(manifest.program.file).toBe('program/default.hex');
    for (const f of ['vectors/expected.hex', 'tb/tb_top.v', 'vectors/s_axis.hex', 'vectors/s_cfg_axis.hex', 'program/default.hex', 'program/default.json']) expect(a.has(f), f).toBe(true);
  });

  it('prefixes every module and file name, and lists the prefixed top', () => {
    const spec = resolveSoftmax(4, { max_length: 8 }, 'acc1');
    const rtl = emitSoftmaxRtl(spec);
    const verilog = [...rtl].filter(([p]) => p.endsWith('.v'));
    expect(verilog.map(([p]) => p).sort()).toEqual(['acc1_softmax_exp.v', 'acc1_softmax_fifo.v', 'acc1_softmax_lis.v', 'acc1_softmax_log2_round.v', 'acc1_softmax_ram.v']);
    for (const [p, text] of verilog) {
      const modules = [...text.matchAll(/^module (\w+)/gm)].map((m) => m[1]);
      expect(modules).toEqual([p.replace(/\.v$/, '')]);
      // Every instance names a prefixed module.
      for (const m of text.matchAll(/^(\w+)( #\(| \w+_inst \()/gm)) expect(m[1]!.startsWith('acc1_'), `${p}: ${m[0]}`).toBe(true);
      // No parameter a user could override at the top.
      if (p === 'acc1_softmax_lis.v') expect(text).not.toMatch(/^\s*parameter\b/m);
    }
    expect(JSON.parse(rtl.get('manifest.json')!).top).toBe('acc1_softmax_lis');
    expect(specError(() => resolveSoftmax(4, undefined, '1bad')).parameter).toBe('prefix');
  });
});

describe('softmax layers and programs', () => {
  it('a program is the layer\'s exp table, tableDepth words {m, z}, from the golden model\'s own entries', () => {
    const spec = resolveSoftmax(8, { min_scale: 0.02099609375, scale: 0.1099853515625 });
    // Worst case at min_scale: x0 = -34, n |x0| + 1 > 256 entries, so the table covers every 8-bit distance.
    expect(spec.range.tableDepth).toBe(256);
    expect(spec.range.zMax).toBe(6333n);
    expect(spec.derived.zWidth).toBe(13);
    expect(spec.derived.shiftWidth).toBe(5);
    for (const scale of [0.02099609375, 0.0231, 0.1099853515625, 0.5, 1.6]) {
      const layer = softmaxLayer(spec, scale);
      const program = softmaxProgram(spec, layer);
      expect(program.words.length).toBe(256);
      program.words.forEach((w, d) => {
        const t = expOf(layer.table, d);
        expect(w & ((1n << 13n) - 1n)).toBe(t.z);
        expect(Number(w >> 13n)).toBe(t.m);
        expect(t.z << BigInt(t.m)).toBe(t.e);
        // Every word of every layer in range is within what the hardware accepts, so widths hold every e.
        expect(t.z <= spec.range.zMax && t.m <= spec.params.n && t.e <= spec.derived.elemMax).toBe(true);
      });
      expect(program.values).toMatchObject({ scale, b: layer.constants.b, c: layer.constants.c, x0: layer.constants.x0 });
    }
    // Larger scales clamp earlier: the words past the clamp repeat the last entry.
    const coarse = softmaxLayer(spec, 0.5);
    expect(coarse.table.length).toBe(61);
    expect(softmaxProgram(spec, coarse).words.slice(60).every((w, _i, all) => w === all[0])).toBe(true);
  });

  it('a layer outside the range is a SpecError naming scale and the range', () => {
    const spec = resolveSoftmax(8, { min_scale: 0.02, scale: 0.05 });
    for (const bad of [0.0199, 1.7, Number.NaN]) {
      const err = specError(() => softmaxLayer(spec, bad));
      expect(err.parameter).toBe('softmax.scale');
      expect(err.message).toContain('from min_scale 0.02 to 1.67');
    }
    expect(softmaxLayer(spec, 0.02).constants.c).toBe(spec.range.zMax);
  });

  it('the default range is the default scale alone, so the default hardware is unchanged', () => {
    for (const bits of [2, 4, 8, 16]) {
      const s = resolveSoftmax(bits, undefined);
      expect(s.range.minScale).toBe(s.params.scale);
      expect(s.derived.elemMax).toBe(s.layer.elemMax);
      expect(s.range.tableDepth).toBe(s.table.length);
    }
  });

  it('gen writes the default program as hex and JSON, the same words', () => {
    const spec = resolveSoftmax(4, undefined);
    const files = softmaxBlock.generate(spec);
    const hex = files.get('program/default.hex')!.trim().split('\n');
    const json = JSON.parse(files.get('program/default.json')!);
    expect(hex.length).toBe(spec.range.tableDepth);
    expect(hex.map((h) => BigInt(`0x${h}`))).toEqual(softmaxProgram(spec).words);
    expect(json.words).toEqual(hex);
    expect(json.format.wordWidth).toBe(spec.derived.wordWidth);
    expect(json.values.c).toBe('11');
  });
});

describe('softmax golden model, by hand', () => {
  // s = 0.5: b = floor(2.70727 / 0.5) = 5, c = floor(2.79212 / 0.25) = 11, x0 = floor(-1.3862) = -2.
  const k = lisConstants(0.5, 30);

  it('computes b, c, x0 as FQ-ViT does in float64', () => {
    expect(k).toEqual({ b: 5n, c: 11n, x0: -2n, n: 30 });
    // The public vectors' scale: 2.70727 / 0.02099609375 = 128.94, 2.79212 / 0.000440835952759 = 6333.6, -0.6931 / s = -33.01
    expect(lisConstants(0.02099609375, 30)).toEqual({ b: 128n, c: 6333n, x0: -34n, n: 30 });
  });

  it('i-exp: k = floor(x / x0), r = x - x0 k, z = r (r + b) + c, e = z 2^(n - k), clamped at x = n x0', () => {
    expect(expEntry(0, k)).toMatchObject({ k: 0, r: 0n, z: 11n, e: 11n << 30n });
    expect(expEntry(1, k)).toMatchObject({ k: 0, r: -1n, z: 7n, e: 7n << 30n }); // -1 * (-1 + 5) + 11
    expect(expEntry(2, k)).toMatchObject({ k: 1, r: 0n, z: 11n, e: 11n << 29n });
    expect(expEntry(3, k)).toMatchObject({ k: 1, r: -1n, z: 7n, e: 7n << 29n });
    expect(expEntry(60, k)).toMatchObject({ k: 30, r: 0n, z: 11n, e: 11n }); // x = n x0 = -60
    expect(expEntry(61, k)).toEqual({ ...expEntry(60, k), d: 61 }); // clamped
    // The table stops at the clamp, n |x0| = 60: 61 entries for 8-bit inputs, and every d past it reads the last one.
    const table = expTable(8, k);
    expect(table.length).toBe(61);
    expect(expOf(table, 255)).toBe(table[60]);
    expect(expTable(4, k).length).toBe(16);
  });

  it('rounds E / e half to even, then to the nearest power of two (up on a tie)', () => {
    expect([1n, 2n, 3n, 4n, 5n, 6n, 11n, 12n, 23n, 24n].map(logRound)).toEqual([0, 1, 2, 2, 2, 3, 3, 4, 4, 5]);
    expect(log2RoundCode(3n, 2n, 4)).toEqual({ code: 1, zero: false }); // 1.5 -> 2 -> 1
    expect(log2RoundCode(5n, 2n, 4)).toEqual({ code: 1, zero: false }); // 2.5 -> 2 (even) -> 1, not 3 -> 2
    expect(log2RoundCode(7n, 2n, 4)).toEqual({ code: 2, zero: false }); // 3.5 -> 4 -> 2
    expect(log2RoundCode(11n, 2n, 4)).toEqual({ code: 3, zero: false }); // 5.5 -> 6 -> 3
    expect(log2RoundCode(98301n, 2n, 4)).toEqual({ code: 15, zero: false }); // 49150.5 -> 49150 -> 15
    expect(log2RoundCode(98303n, 2n, 4)).toEqual({ code: 15, zero: true }); // 49151.5 -> 49152 = 3 * 2^14 -> 16: zero
    expect(log2RoundCode(5n, 0n, 3)).toEqual({ code: 7, zero: true }); // e = 0: exactly zero
  });

  it('rows: L = 1, all equal, a spread, cut at max_length', () => {
    const table = expTable(4, k);
    expect(softmaxRow([9], table, 4)).toEqual([{ code: 0, zero: false }]);
    // All equal: y = L for every element; log_round(197) = 8 (197 - 128 >= 64).
    expect(new Set(softmaxRow(Array(197).fill(3), table, 4).map((o) => o.code))).toEqual(new Set([8]));
    // [3, 2]: e = 11, 7 (x 2^30), E = 18: 18/11 = 1.64 -> 2 -> 1; 18/7 = 2.57 -> 3 -> 2.
    expect(softmaxRow([3, 2], table, 4)).toEqual([{ code: 1, zero: false }, { code: 2, zero: false }]);
    // The largest spread: 15 and 0, d = 15: k = 7, r = -1, e = 7 * 2^23; E / e = (11 * 2^30 + 7 * 2^23) / (7 * 2^23) = 202.1
    expect(softmaxRow([15, 0], table, 4)).toEqual([{ code: 0, zero: false }, { code: 8, zero: false }]);
    expect(softmaxRow([15, 0], table, 3)).toEqual([{ code: 0, zero: false }, { code: 7, zero: true }]);
    expect(splitRows([{ q: 1, last: false }, { q: 2, last: false }, { q: 3, last: true }], 2)).toEqual([[1, 2], [3]]);
  });

  it('never underflows e to 0 for any allowed scale: z = r (r + b) + c >= 1 on the whole domain', () => {
    for (let i = 0; i <= 500; i++) {
      const s = 1.77e-8 * Math.pow(1.66 / 1.77e-8, i / 500);
      const c = lisConstants(s, 30);
      const t = expTable(12, c);
      expect(t.every((e) => e.z >= 1n)).toBe(true);
    }
  });
});

/** FQ-ViT's float64 path for one element: round(E / e) with torch.round, then log_round with float log2. */
function fqvitFloatCode(sum: bigint, e: bigint): number {
  const y = roundHalfEvenNumber(Number(sum) / Number(e));
  let big = Math.floor(Math.log2(y));
  if (y - 2 ** big >= 2 ** (big - 1)) big += 1;
  return big;
}

describe('float64 and exact integers agree below 2^52 (generators/softmax/README.md)', () => {
  it('on random pairs, pairs at every rounding tie and pairs next to every power of two', () => {
    let state = 12345n;
    const rnd = (bits: number) => {
      state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      return (state >> 11n) & ((1n << BigInt(bits)) - 1n);
    };
    let checked = 0;
    const check = (sum: bigint, e: bigint) => {
      if (e < 1n || sum < e || sum >= 1n << 52n) return;
      expect(fqvitFloatCode(sum, e), `E ${sum} e ${e}`).toBe(log2RoundCode(sum, e, 8).code);
      checked++;
    };
    for (let i = 0; i < 200; i++) {
      const e = 1n + rnd(1 + Number(rnd(5)) % 31);
      const sum = e + rnd(52) % ((1n << 52n) - e);
      check(sum, e);
      // Next to the rounding ties of round(E / e) at every power-of-two threshold T = 3 * 2^(j-2): 2E = (2T - 1) e
      // (even e) or 2E = (2T - 1) e +- 1 (odd e, the closest a non-tie gets), with E up to just below 2^52.
      for (let j = 1; j < 52; j++) {
        const T = j === 1 ? 2n : j === 2 ? 3n : 3n << BigInt(j - 2);
        const eMax = ((1n << 52n) - 1n) / T;
        const eOdd = eMax - rnd(8) * 2n - (eMax % 2n === 0n ? 1n : 0n);
        const eEven = (1n + rnd(Number(rnd(6)) % 48 + 1)) * 2n;
        for (const ee of [eOdd, eOdd - 2n, eEven, eEven + 2n]) {
          const below = ((2n * T - 1n) * ee - 1n) / 2n;
          for (const d of [-1n, 0n, 1n, 2n]) check(below + d, ee);
        }
        // y next to 2^j: E = (2^j +- 1) e.
        for (const d of [-1n, 0n, 1n]) check(((1n << BigInt(j)) + d) * (eEven / 2n), eEven / 2n);
      }
    }
    expect(checked).toBeGreaterThan(100000);
  });

  it('and not above it: just past 2^52 the float division rounds onto a tie (why floatExactBound stops there)', () => {
    const sum = 6192449487634437n; // about 1.37 * 2^52
    const e = 1125899906842625n; // E / e = 5.5 - 1 / (2e): rounds to 5 exactly, but to 5.5 -> 6 in float64
    expect(2n * sum).toBe(11n * e - 1n);
    expect(log2RoundCode(sum, e, 8).code).toBe(2);
    expect(fqvitFloatCode(sum, e)).toBe(3);
  });
});

/**
 * FQ-ViT's QIntSoftmax on one row, in float64 as PyTorch computes it (JS numbers are float64): the constants, the
 * i-exp, the row sum (left to right, or pairwise as a tree reduction would), round(E / e), log_round, the mask.
 * Returns the code, or null for an exact zero.
 */
function fqvitFloatRow(row: readonly number[], s: number, outBits: number, pairwise: boolean): Array<number | null> {
  const n = 30;
  const coef1 = 0.96963238 / 0.35815147;
  const coef2 = 1.0 / 0.35815147;
  const b = Math.floor(coef1 / s);
  const c = Math.floor(coef2 / s ** 2);
  const x0 = Math.floor(-0.6931 / s);
  const max = Math.max(...row);
  const e = row.map((q) => {
    const x = Math.max(q - max, n * x0);
    const k = Math.floor(x / x0);
    const r = x - x0 * k;
    return Math.max(Math.floor((r * (r + b) + c) * 2 ** (n - k)), 0);
  });
  const tree = (lo: number, hi: number): number => (hi - lo === 1 ? e[lo]! : tree(lo, (lo + hi) >> 1) + tree((lo + hi) >> 1, hi));
  const sum = pairwise ? tree(0, e.length) : e.reduce((a, v) => a + v, 0);
  return e.map((v) => {
    const y = roundHalfEvenNumber(sum / v);
    if (!Number.isFinite(y)) return null; // e = 0
    let big = Math.floor(Math.log2(y));
    if (y - 2 ** big >= 2 ** (big - 1)) big += 1;
    return big >= 2 ** outBits ? null : big;
  });
}

/** Seeded rows shaped like the public vectors' kinds (8-bit codes): gauss, peaky (a low bulk and 1-3 spikes), uniform. */
function kindRows(kind: 'gauss' | 'peaky' | 'uniform', length: number, count: number, seed: number): number[][] {
  const rnd = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const clip = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return Array.from({ length: count }, () => {
    if (kind === 'uniform') return Array.from({ length }, () => Math.floor(rnd() * 256));
    if (kind === 'gauss') {
      const mean = 120 + 50 * rnd();
      const sd = 30 + 15 * rnd();
      return Array.from({ length }, () => clip(mean + sd * normal()));
    }
    const row = Array.from({ length }, () => clip(55 + 27 * normal()));
    for (let i = 0, spikes = 1 + Math.floor(rnd() * 3); i < spikes; i++) row[Math.floor(rnd() * length)] = clip(190 + 65 * rnd());
    return row;
  });
}

describe('FQ-ViT in float64 equals the model on whole rows past 2^52 (floatExactBound)', () => {
  it('scales 0.01 and 0.005 at L = 197: row sums pass 2^52, every e is a multiple of 2^29, no code differs', () => {
    let elements = 0;
    let rowsPast52 = 0;
    for (const scale of [0.01, 0.005]) {
      const spec = resolveSoftmax(8, { scale });
      expect(spec.derived.floatExactBound).toBe(true);
      for (const kind of ['gauss', 'peaky', 'uniform'] as const) {
        for (const row of kindRows(kind, 197, 40, Math.round(scale * 1e4))) {
          const max = Math.max(...row);
          if (row.reduce((a, q) => a + expOf(spec.table, max - q).e, 0n) >= 1n << 52n) rowsPast52++;
          for (const outBits of [4, 8]) {
            const model = softmaxRow(row, spec.table, outBits).map((o) => (o.zero ? null : o.code));
            for (const pairwise of [false, true]) expect(fqvitFloatRow(row, scale, outBits, pairwise), `${kind} s ${scale}`).toEqual(model);
            elements += row.length;
          }
        }
      }
    }
    expect(elements).toBe(2 * 3 * 40 * 197 * 2);
    expect(rowsPast52).toBeGreaterThan(100); // the old 2^52 bound would have refused these scales
  });
});

describe('softmax golden model against FQ-ViT (public vectors)', () => {
  it('equals every softmax output of fqvit-public.json, for 4- and 8-bit codes', () => {
    const file = JSON.parse(readFileSync(VECTORS, 'utf8')) as { cases: Array<Record<string, unknown>> };
    const cases = file.cases.filter((c) => c.block === 'softmax');
    expect(cases.length).toBeGreaterThan(0);
    let elements = 0;
    let mismatches = 0;
    let zeros = 0;
    const outBits = new Set<number>();
    for (const c of cases) {
      const spec = resolveSoftmax(c.in_bits as number, { in_bits: c.in_bits, out_bits: c.out_bits, scale: c.scale, max_length: c.length });
      outBits.add(spec.params.out_bits);
      (c.inputs as number[][]).forEach((row, r) => {
        softmaxRow(row, spec.table, spec.params.out_bits).forEach((o, i) => {
          const want = (c.expect as Array<Array<number | null>>)[r]![i];
          elements++;
          if (want === null) zeros++;
          if (want === null ? !o.zero : o.zero || o.code !== want) mismatches++;
        });
      });
    }
    expect(mismatches).toBe(0);
    expect(elements).toBeGreaterThan(5000);
    expect(zeros).toBeGreaterThan(0);
    expect([...outBits].sort()).toEqual([4, 8]);
  });
});

describe('default stimulus', () => {
  it('holds the edge cases and ends with tlast', () => {
    const spec = resolveSoftmax(4, undefined);
    const beats = defaultStimulus(spec);
    const rows = splitRows(beats, 197);
    expect(beats.at(-1)!.last).toBe(true);
    expect(rows.some((r) => r.length === 1)).toBe(true);
    expect(rows.some((r) => r.length === 197 && new Set(r).size === 1)).toBe(true);
    expect(rows.some((r) => r.includes(15) && r.includes(0))).toBe(true);
    expect(rows.filter((r) => r.length === 197).length).toBeGreaterThan(3); // includes the row cut at max_length
  });
});
