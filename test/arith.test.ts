import { describe, expect, it } from 'vitest';
import {
  clog2, exactBinary, floorDiv, fromSigned, roundHalfEvenDiv, roundHalfEvenNumber, shiftRound, signedWidth, toUnsigned, unsignedWidth,
} from '../generators/common/arith.ts';

// Hand-computed cases: the rounding modes and widths every block's model and RTL rest on.
describe('exact arithmetic', () => {
  it('floorDiv rounds toward minus infinity for every sign', () => {
    expect([floorDiv(7n, 2n), floorDiv(-7n, 2n), floorDiv(7n, -2n), floorDiv(-7n, -2n), floorDiv(-8n, 2n)]).toEqual([3n, -4n, -4n, 3n, -4n]);
  });

  it('roundHalfEvenDiv sends ties to the even neighbour, as torch.round does', () => {
    // 5/2 = 2.5 → 2, 7/2 = 3.5 → 4, -5/2 → -2, -7/2 → -4, 7/3 = 2.33 → 2, 8/3 = 2.67 → 3
    expect([5n, 7n, -5n, -7n].map((a) => roundHalfEvenDiv(a, 2n))).toEqual([2n, 4n, -2n, -4n]);
    expect([roundHalfEvenDiv(7n, 3n), roundHalfEvenDiv(8n, 3n), roundHalfEvenDiv(-8n, 3n), roundHalfEvenDiv(5n, -2n)]).toEqual([2n, 3n, -3n, -2n]);
  });

  it('shiftRound names its mode', () => {
    expect(shiftRound(-12n, 3, 'floor')).toBe(-2n); // -1.5 → -2
    expect(shiftRound(-12n, 3, 'half-even')).toBe(-2n); // -1.5 → -2 (even)
    expect(shiftRound(-20n, 3, 'half-even')).toBe(-2n); // -2.5 → -2 (even)
    expect(shiftRound(20n, 3, 'half-even')).toBe(2n); // 2.5 → 2
    expect(shiftRound(28n, 3, 'half-even')).toBe(4n); // 3.5 → 4
    expect(shiftRound(5n, 0, 'half-even')).toBe(5n);
  });

  it('agrees with float round-half-even on the number line', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEvenNumber)).toEqual([0, 2, 2, 0, -2, 2, 3]);
    for (let n = -40; n <= 40; n++) expect(Number(roundHalfEvenDiv(BigInt(n), 4n))).toBe(roundHalfEvenNumber(n / 4) + 0);
  });

  it('derives widths', () => {
    expect([clog2(1), clog2(2), clog2(3), clog2(197), clog2(256)]).toEqual([0, 1, 2, 8, 8]);
    expect([unsignedWidth(0), unsignedWidth(1), unsignedWidth(255), unsignedWidth(256)]).toEqual([1, 1, 8, 9]);
    expect([signedWidth(-128, 127), signedWidth(-129, 0), signedWidth(0, 128), signedWidth(-1, 0)]).toEqual([8, 9, 9, 1]);
  });

  it('encodes and decodes two’s complement', () => {
    expect(toUnsigned(-1n, 8)).toBe(255n);
    expect(fromSigned(255n, 8)).toBe(-1n);
    expect(fromSigned(127n, 8)).toBe(127n);
  });

  it('represents a float64 exactly as a dyadic fraction', () => {
    expect(exactBinary(0.02313232421875)).toEqual({ num: 379n, exp: 14 });
    expect(exactBinary(-3)).toEqual({ num: -3n, exp: 0 });
    const { num, exp } = exactBinary(0.1);
    expect(Number(num) / 2 ** exp).toBe(0.1);
  });
});
