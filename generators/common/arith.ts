/**
 * Exact integer arithmetic shared by the golden models and the width derivations. Everything is BigInt so that no
 * intermediate ever loses a bit; rounding has exactly one implementation per mode.
 */

/** How a value is brought to fewer fraction bits. FQ-ViT (torch.round) rounds half to even everywhere. */
export type Rounding = 'half-even' | 'floor';

/** What happens when a value leaves the output code range. */
export type Overflow = 'saturate';

/** floor(a / b) for any signs (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('floorDiv by zero');
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** round(a / b), half to even, exact. */
export function roundHalfEvenDiv(a: bigint, b: bigint): bigint {
  if (b < 0n) { a = -a; b = -b; }
  const q = floorDiv(a, b);
  const twiceRem = 2n * (a - q * b); // in [0, 2b)
  if (twiceRem > b) return q + 1n;
  if (twiceRem < b) return q;
  return q % 2n === 0n ? q : q + 1n;
}

/** x / 2^shift brought to an integer with the named rounding mode (shift ≥ 0). */
export function shiftRound(x: bigint, shift: number, rounding: Rounding): bigint {
  if (shift < 0) throw new RangeError('shiftRound: negative shift');
  const d = 1n << BigInt(shift);
  return rounding === 'floor' ? floorDiv(x, d) : roundHalfEvenDiv(x, d);
}

export function clamp(x: bigint, lo: bigint, hi: bigint): bigint {
  return x < lo ? lo : x > hi ? hi : x;
}

/** ceil(log2(n)) for n ≥ 1. */
export function clog2(n: number | bigint): number {
  let v = BigInt(n);
  if (v < 1n) throw new RangeError('clog2 of a value below 1');
  v -= 1n;
  let bits = 0;
  while (v > 0n) { v >>= 1n; bits++; }
  return bits;
}

/** Bits of an unsigned register that holds every value in [0, max]. At least 1. */
export function unsignedWidth(max: bigint | number): number {
  const m = BigInt(max);
  if (m < 0n) throw new RangeError('unsignedWidth of a negative value');
  return m === 0n ? 1 : m.toString(2).length;
}

/** Bits of a two's-complement register that holds every value in [min, max]. At least 1. */
export function signedWidth(min: bigint | number, max: bigint | number): number {
  const lo = BigInt(min);
  const hi = BigInt(max);
  // w bits hold lo >= -2^(w-1) when -lo - 1 fits w - 1 bits, and hi <= 2^(w-1) - 1 when hi does
  const bitLength = (u: bigint) => (u === 0n ? 0 : u.toString(2).length);
  return 1 + Math.max(lo < 0n ? bitLength(-lo - 1n) : 0, hi > 0n ? bitLength(hi) : 0);
}

/** Largest code of an unsigned `bits`-wide value. */
export function maxUnsigned(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** The exact value of a finite float64 as num / 2^exp (exp ≥ 0), so float constants can be used without error. */
export function exactBinary(x: number): { num: bigint; exp: number } {
  if (!Number.isFinite(x)) throw new RangeError('exactBinary of a non-finite value');
  if (x === 0) return { num: 0n, exp: 0 };
  let exp = 0;
  let v = x;
  while (!Number.isInteger(v)) { v *= 2; exp++; } // exact: scaling by 2 never rounds a finite double
  return { num: BigInt(v), exp };
}

/** torch.round on a float64: round half to even. */
export function roundHalfEvenNumber(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Two's-complement encoding of `value` in `bits` bits, as an unsigned BigInt (for hex files and literals). */
export function toUnsigned(value: bigint, bits: number): bigint {
  const mask = maxUnsigned(bits);
  return value & mask;
}

/** Inverse of toUnsigned: interpret the low `bits` bits as two's complement. */
export function fromSigned(raw: bigint, bits: number): bigint {
  const v = raw & maxUnsigned(bits);
  return v >= 1n << BigInt(bits - 1) ? v - (1n << BigInt(bits)) : v;
}
