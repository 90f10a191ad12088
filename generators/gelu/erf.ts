/**
 * GELU (erf-based, as torch.nn.GELU) twice: a fast float64 version for searching, and a rigorous enclosure in BigInt
 * fixed point for deciding a rounding that the float cannot decide. Only the generator uses these; the hardware
 * compares integers.
 *
 * Fast: erf by its Taylor series for |x| <= 2 and by the continued fraction of erfc above; measured against the
 * enclosure in test/gelu.test.ts: GELU within 2e-15 (1 + |y|), a hundredth of the margin the fast path requires.
 * Rigorous: Phi(y) = 1/2 + 1/2 * sqrt(2/pi) * sum_n (-1)^n y^(2n+1) / (2^n n! (2n+1)); every term is computed from
 * exact integers with one floor (error below one unit of 2^-P each), the alternating tail is bounded by the first
 * omitted term once terms decrease, and sqrt(2/pi) comes from pi by Machin's formula with its own bounds.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/** erf(x) in float64 (see the file comment for its accuracy). */
export function erfFloat(x: number): number {
  const a = Math.abs(x);
  if (a > 2) {
    if (a > 27) return Math.sign(x); // erfc(27) < 1e-318
    // erfc(a), a > 2 = e^(-a^2) / sqrt(pi) * 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...))))), backwards.
    let f = a;
    for (let k = 160; k >= 1; k--) f = a + k / 2 / f;
    const erfc = (Math.exp(-a * a) * INV_SQRT_PI) / f;
    return Math.sign(x) * (1 - erfc);
  }
  // Taylor: sum_n (-1)^n x^(2n+1) / (n! (2n+1)); terms fall below 1e-18 of the sum well before n = 60 for |x| <= 2.
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= -x2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** GELU(y) = y * (1 + erf(y / sqrt 2)) / 2 in float64. */
export function geluFloat(y: number): number {
  return 0.5 * y * (1 + erfFloat(y * Math.SQRT1_2));
}

/** GELU'(y) = Phi(y) + y phi(y): negative left of the minimum, positive right of it. */
export function geluSlopeFloat(y: number): number {
  return 0.5 * (1 + erfFloat(y * Math.SQRT1_2)) + (y * Math.exp(-0.5 * y * y)) / Math.sqrt(2 * Math.PI);
}

/** Where GELU is smallest (about -0.7518), by bisection on the sign of the float slope. */
export function geluArgminFloat(): number {
  let lo = -1;
  let hi = -0.5;
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (geluSlopeFloat(mid) < 0) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Half-width of the interval the true argmin lies in around geluArgminFloat(): the float slope is off by about the
 * float erf's error (GELU within 2e-15 (1 + |y|), test/gelu.test.ts) plus rounding, and GELU'' is about 0.43 there,
 * so the root is off by about 1e-14; this is ten times that.
 */
export const ARGMIN_MARGIN = 1e-13;

// ---------------------------------------------------------------------------------------------------------------
// Rigorous enclosures

/** A closed interval [lo, hi] of reals lo / 2^p and hi / 2^p. */
export interface FixedInterval {
  lo: bigint;
  hi: bigint;
  p: number;
}

function atanInvScaled(x: bigint, p: number): { value: bigint; err: bigint } {
  // atan(1/x) * 2^p = sum_k (-1)^k 2^p / ((2k+1) x^(2k+1)); each term floored (error < 1), tail < next term.
  const one = 1n << BigInt(p);
  let sum = 0n;
  let power = x; // x^(2k+1)
  let terms = 0n;
  for (let k = 0n; ; k++) {
    const t = one / ((2n * k + 1n) * power);
    if (t === 0n) break;
    sum += k % 2n === 0n ? t : -t;
    terms++;
    power *= x * x;
  }
  return { value: sum, err: terms + 2n };
}

const piCache = new Map<number, FixedInterval>();

/** pi as an interval at 2^-p (Machin: pi = 16 atan(1/5) - 4 atan(1/239)). */
export function piInterval(p: number): FixedInterval {
  const cached = piCache.get(p);
  if (cached) return cached;
  const a = atanInvScaled(5n, p);
  const b = atanInvScaled(239n, p);
  const mid = 16n * a.value - 4n * b.value;
  const err = 16n * a.err + 4n * b.err;
  const r = { lo: mid - err, hi: mid + err, p };
  piCache.set(p, r);
  return r;
}

function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative value');
  if (n < 2n) return n;
  // Newton from above.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** sqrt(2/pi) as an interval at 2^-p. */
export function sqrtTwoOverPi(p: number): FixedInterval {
  const pi = piInterval(p + 8);
  const q = p + 8;
  // 2/pi * 2^(2p) = 2^(2p + 1 + q) / (pi * 2^q).
  const num = 1n << BigInt(2 * p + 1 + q);
  const lo2 = num / pi.hi; // floor, below 2/pi * 2^(2p)
  const hi2 = num / pi.lo + 1n;
  return { lo: isqrt(lo2), hi: isqrt(hi2) + 1n, p };
}

/**
 * An interval enclosing GELU(y) * 2^p for y = num / 2^exp exactly (exp >= 0), valid for |y| <= 40 (above, the
 * caller uses that GELU(y) is within y e^(-800) of max(y, 0)). Returns bounds in units of 2^-p.
 */
export function geluEnclosure(num: bigint, exp: number, p: number): FixedInterval {
  const e = BigInt(exp);
  const den = 1n << e;
  // S * 2^w = sum_n (-1)^n y^(2n+1) 2^w / (2^n n! (2n+1)), y^(2n+1) = num^(2n+1) / 2^(exp (2n+1)).
  const w = p + 16;
  const y2 = Number(num) ** 2 / Number(den) ** 2;
  let sum = 0n;
  let count = 0n;
  let power = num; // num^(2n+1)
  let powDen = den; // 2^(exp (2n+1))
  let fact = 1n; // 2^n n!
  let tail = 0n;
  for (let n = 0n; ; n++) {
    const d = powDen * fact * (2n * n + 1n);
    const scaled = power * (1n << BigInt(w));
    // floor for positives, toward -inf for negatives (|error| < 1 unit either way)
    let t = scaled / d;
    if (scaled % d !== 0n && scaled < 0n) t -= 1n;
    const abs = t < 0n ? -t : t;
    const decreasing = Number(n) > y2; // |t_(n+1)| / |t_n| < y^2 / (2 (n + 1)) < 1 from here on
    // From here the terms decrease: the rest of the alternating sum is below this term (< 2 units).
    if (decreasing && abs <= 1n) { tail = 2n; break; }
    sum += n % 2n === 0n ? t : -t;
    count++;
    power *= num * num;
    powDen *= den * den;
    fact *= 2n * (n + 1n);
  }
  const sErr = count + tail + 1n; // floors, the tail, slack
  const sLo = sum - sErr;
  const sHi = sum + sErr;
  const c = sqrtTwoOverPi(w);
  // c * S in units of 2^-(2w), as an interval (c > 0, S of either sign).
  const prods = [c.lo * sLo, c.lo * sHi, c.hi * sLo, c.hi * sHi];
  const csLo = prods.reduce((a, b) => (b < a ? b : a));
  const csHi = prods.reduce((a, b) => (b > a ? b : a));
  // Phi = 1/2 + cS/2, in units of 2^-(2w + 1).
  const half = 1n << BigInt(2 * w);
  const phiLo = half + csLo;
  const phiHi = half + csHi;
  // GELU = y Phi = num Phi / 2^exp; bring to units of 2^-p: divide by 2^(2w + 1 + exp - p).
  const shift = BigInt(2 * w + 1 + exp - p);
  const a = num * phiLo;
  const b = num * phiHi;
  const lo = (a < b ? a : b);
  const hi = (a < b ? b : a);
  // BigInt >> rounds toward -infinity, so these bound the interval from outside.
  return { lo: lo >> shift, hi: (hi >> shift) + 1n, p };
}
