// The proof that a GEMM step's requantizer equals the exact formula (generators/encoder/exact-linear.ts): a hand-worked
// value, and at small widths the proof's verdict against an exhaustive scan of every accumulator, over random layers
// and frac_bits from 8 to 20 (so both verdicts occur).
import { describe, expect, it } from 'vitest';
import { randomFrom } from '../generators/common/random.ts';
import { deriveChannel, requantize } from '../generators/gemm/model.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';
import { exactChannel, exactCode, firstInexact } from '../generators/encoder/exact-linear.ts';

describe('exact formula of a GEMM step', () => {
  it('hand-worked: acc 10, s_a 0.5, s_w 0.25, bias 0.375, s_out 0.5, zp 3', () => {
    // (10 · 0.125 + 0.375) / 0.5 = 3.25 → 3, + 3 = 6; acc 11: (1.375 + 0.375) / 0.5 = 3.5 → 4 (half to even), + 3 = 7;
    // acc 9: (1.125 + 0.375) / 0.5 = 3 → 6; acc -100: clamped to 0; acc 100: (12.5 + 0.375) / 0.5 = 25.75 → 26, + 3 = 29, clamped to 15
    const x = exactChannel({ aScale: 0.5, wScale: [0.25], bias: [0.375], outScale: 0.5, outZeroPoint: 3 }, 0, 4);
    expect([10n, 11n, 9n, -100n, 100n].map((a) => exactCode(x, a))).toEqual([6n, 7n, 6n, 0n, 15n]);
    // 2.5 → 2 (half to even): acc 7 gives (0.875 + 0.375) / 0.5 = 2.5
    expect(exactCode(x, 7n)).toBe(5n);
  });
});

describe('firstInexact: the proof agrees with an exhaustive scan', () => {
  it('over random layers at 3 and 4 bits, frac_bits 8 to 20', () => {
    const rnd = randomFrom(11);
    let proven = 0;
    let refuted = 0;
    for (let trial = 0; trial < 400; trial++) {
      const bits = rnd.pick([3, 4]);
      const fracBits = rnd.int(8, 20);
      const spec = resolveGemm(bits, { a_bits: bits, w_bits: bits, out_bits: bits, max_k: rnd.int(1, 6), frac_bits: fracBits });
      const outScale = 2 ** rnd.int(-6, 2) * (1 + rnd.float());
      const scales = {
        aScale: 2 ** rnd.int(-6, 0) * (1 + rnd.float()),
        wScale: [2 ** rnd.int(-6, 0) * (1 + rnd.float())],
        bias: [(rnd.float() - 0.5) * 8 * outScale],
        outScale,
        outZeroPoint: rnd.int(0, 2 ** bits - 1),
      };
      let constants;
      try {
        constants = deriveChannel(spec, scales, 0);
      } catch {
        continue; // a rescale too large for frac_bits: not a requantizer to prove
      }
      const x = exactChannel(scales, 0, bits);
      let scanned: bigint | undefined;
      for (let acc = spec.derived.accMin; acc <= spec.derived.accMax && scanned === undefined; acc++) {
        if (requantize(spec, acc, constants) !== exactCode(x, acc)) scanned = acc;
      }
      const found = firstInexact(spec, constants, x);
      expect(found === undefined, `trial ${trial}: proof ${found}, scan ${scanned}`).toBe(scanned === undefined);
      if (found !== undefined) {
        expect(requantize(spec, found, constants)).not.toBe(exactCode(x, found));
        refuted++;
      } else {
        proven++;
      }
    }
    expect(proven).toBeGreaterThan(50);
    expect(refuted).toBeGreaterThan(20);
  });
});
