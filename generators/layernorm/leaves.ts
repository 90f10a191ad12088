/**
 * Leaf arithmetic units of the LayerNorm block, one job each, parameterized so that a test (and the formal flow) can
 * generate them for small widths: the bit-serial integer square root, the bit-serial divider (the reciprocal of the
 * root), the round-half-even variable right shifter, and the per-element M/N unit.
 */
import { signedWidth, unsignedWidth } from '../common/arith.ts';
import { render } from '../common/render.ts';
import { headerComment } from '../common/verilog.ts';

/** Width of a counter that counts 0 .. n − 1. */
function counterWidth(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
}

/**
 * floor(sqrt(radicand)), exact, by the non-restoring digit recurrence: one root bit per cycle (one carry chain whose
 * operand the remainder's sign chooses, no trial subtraction and multiplexer), ROOT_WIDTH cycles from `start` to the
 * `done` pulse. The partial remainder's magnitude never exceeds twice the partial root plus one, so ROOT_WIDTH + 2
 * signed bits hold it. `start` while busy restarts.
 */
export function emitIsqrt(rootWidth: number, name = 'ptf_layernorm_isqrt'): string {
  const cw = counterWidth(rootWidth);
  return render('layernorm/ptf_layernorm_isqrt.v', {
    header: headerComment(`${name}: bit-serial integer square root, floor(sqrt(radicand)), exact`, { rootWidth }),
    name,
    rootWidth,
    countWidth: cw,
    lastStep: rootWidth - 1,
  });
}

/**
 * quotient = floor(numerator / divisor), exact, by non-restoring division: one quotient bit per cycle (one carry chain each), QUOT_WIDTH cycles
 * from \`start\` to the \`done\` pulse; \`inexact\` says the remainder is not zero (for the floor of a negative quotient).
 * Requires numerator < divisor · 2^QUOT_WIDTH (the caller's widths guarantee it), so the quotient has QUOT_WIDTH bits.
 * `heldDivisor`: the divisor is not captured at `start`; the caller holds it from `start` through `done` (the serial token
 * unit's shared divider, whose divisor is the square root unit's result, idle then).
 */
export function emitDivider(numWidth: number, denWidth: number, quotWidth: number, name = 'ptf_layernorm_divider', options: { heldDivisor?: boolean } = {}): string {
  if (numWidth - quotWidth > denWidth || quotWidth < 2) throw new Error(`${name}: needs NUM_WIDTH − QUOT_WIDTH ≤ DEN_WIDTH and QUOT_WIDTH ≥ 2`);
  const cw = counterWidth(quotWidth);
  const highWidth = numWidth - quotWidth;
  const preload = highWidth === denWidth
    ? `{1'b0, numerator[NUM_WIDTH-1:QUOT_WIDTH]}`
    : `{{DEN_WIDTH-NUM_WIDTH+QUOT_WIDTH+1{1'b0}}, numerator[NUM_WIDTH-1:QUOT_WIDTH]}`;
  return render('layernorm/ptf_layernorm_divider.v', {
    header: headerComment(`${name}: bit-serial non-restoring divider, floor(numerator / divisor), exact`, { numWidth, denWidth, quotWidth }),
    name,
    numWidth,
    denWidth,
    quotWidth,
    countWidth: cw,
    lastStep: quotWidth - 1,
    preload,
    heldDivisor: options.heldDivisor ?? false,
  });
}

/**
 * FQ-ViT's M and N of one element from the top bits of PA = RA·|ga| (two cycles, `ce` enabled; the caller gives
 * nA − k, known long before PA): δ = the top bit, N_u = nA − k − δ, M_u = the 8 bits below the leading one (floor), then the clamps of get_MN: N_u < 0 → (255, 0),
 * N_u > 31 → (M_u >> (N_u − 31), 31); gamma = 0 → (0, 31); a constant token → (0, 0). Beside N it gives FK − N, the
 * offset's shift, from a carry chain of its own in the first cycle (fracK = FK, at least 31).
 */
export function emitMn(nkWidth: number, fracK: number, name = 'ptf_layernorm_mn'): string {
  const kShiftWidth = unsignedWidth(fracK);
  if (fracK < 31) throw new Error(`${name}: FK − N needs FK ≥ 31 (N ≤ 31), got FK = ${fracK}`);
  const literal = (value: number) => `${kShiftWidth}'d${value % 2 ** kShiftWidth}`;
  return render('layernorm/ptf_layernorm_mn.v', {
    header: headerComment(`${name}: FQ-ViT's 8-bit multiplier M and shift N per element, and FK − N, in two cycles`, { nkWidth, fracK }),
    name,
    nkWidth,
    fracK,
    kShiftWidth,
    kShiftBase: literal(fracK + 1),
    kShiftMax: literal(fracK),
    kShiftMin: literal(fracK - 31),
    nkLow: nkWidth >= kShiftWidth ? `nk[${kShiftWidth - 1}:0]` : `{{${kShiftWidth - nkWidth}{nk[${nkWidth - 1}]}}, nk}`,
  });
}

/** One node of a pipelined multiplier's adder tree: its value's bounds and its weight 2^shift. */
interface TreeNode {
  name: string;
  width: number;
  min: bigint;
  max: bigint;
  shift: number;
}

/** Geometry of a pipelined multiplier (see emitPipelinedMultiplier). */
export interface PipelinedMultiplierPlan {
  /** Cycles (clock enables) from presenting a, b (and c) to the product. */
  latency: number;
  /** Signed width of the product register (holds every a·b + c). */
  productWidth: number;
}

function extend(name: string, from: number, to: number): string {
  if (to === from) return name;
  if (to < from) return `${name}[${to - 1}:0]`;
  return `{{${to - from}{${name}[${from - 1}]}}, ${name}}`;
}

/** The adder tree of a pipelined multiplier as Verilog, with its plan. */
function multiplierTree(aWidth: number, bWidth: number, cWidth: number, chunk: number, maxCarry: number, booth = false, addendAt = 0, passNarrowest = false): TreeResult {
  const aMin = -(1n << BigInt(aWidth - 1));
  const aMax = (1n << BigInt(aWidth - 1)) - 1n;
  const decls: string[] = [];
  const stmts: string[] = [];
  let level: TreeNode[] = [];
  if (booth) {
    // Level 0: radix-4 Booth digits of b in {-2..2} select ±a or ±2a; a negative digit is the one's complement, and
    // the missing +1s (boothCorrection(b)) come in through c.
    const digits = Math.ceil(bWidth / 2);
    const pw = aWidth + 1;
    decls.push(`wire [${2 * digits}:0] b_ext = {${2 * digits > bWidth ? `b[${bWidth - 1}], ` : ''}b, 1'b0};`);
    for (let i = 0; i < digits; i++) {
      const name = `pp${i}_reg`;
      decls.push(`wire [2:0] digit${i} = b_ext[${2 * i + 2}:${2 * i}];`);
      decls.push(`wire [${pw - 1}:0] mag${i} = digit${i}[1] ^ digit${i}[0] ? {a[${aWidth - 1}], a} : (digit${i} == 3'b100 || digit${i} == 3'b011) ? {a, 1'b0} : ${pw}'d0;`);
      decls.push(`reg signed [${pw - 1}:0] ${name} = ${pw}'sd0;`);
      stmts.push(`${name} <= mag${i} ^ {${pw}{digit${i}[2] && !(digit${i}[1] && digit${i}[0])}};`);
      level.push({ name, width: pw, min: -(1n << BigInt(pw - 1)), max: (1n << BigInt(pw - 1)) - 1n, shift: 2 * i });
    }
  }
  // Level 0: partial products a·b_i of chunk-bit slices of b (unsigned below the top slice, signed at the top).
  for (let lo = 0, i = 0; !booth && lo < bWidth; lo += chunk, i++) {
    const hi = Math.min(bWidth, lo + chunk) - 1;
    const top = hi === bWidth - 1;
    const k = hi - lo + 1;
    const bMin = top ? -(1n << BigInt(k - 1)) : 0n;
    const bMax = top ? (1n << BigInt(k - 1)) - 1n : (1n << BigInt(k)) - 1n;
    const corners = [aMin * bMin, aMin * bMax, aMax * bMin, aMax * bMax];
    const min = corners.reduce((m, v) => (v < m ? v : m));
    const max = corners.reduce((m, v) => (v > m ? v : m));
    const width = signedWidth(min, max);
    const name = `pp${i}_reg`;
    const slice = top ? `$signed(b[${hi}:${lo}])` : `$signed({1'b0, b[${hi}:${lo}]})`;
    decls.push(`reg signed [${width - 1}:0] ${name} = ${width}'sd0;`);
    stmts.push(`${name} <= $signed(a) * ${slice};`);
    level.push({ name, width, min, max, shift: lo });
  }
  if (cWidth > 0) {
    const min = -(1n << BigInt(cWidth - 1));
    const max = (1n << BigInt(cWidth - 1)) - 1n;
    decls.push(`reg signed [${cWidth - 1}:0] addend_reg = ${cWidth}'sd0;`);
    stmts.push('addend_reg <= c;');
    // The addend's place among the leaves (addendAt) sets its partner: next to the highest-weight partial product its
    // sum has a carry chain from that product's weight up (its lower bits pass through); next to the lowest one, the
    // chain spans the addend's width. bestTree tries every place.
    level.splice(Math.min(addendAt, level.length), 0, { name: 'addend_reg', width: cWidth, min, max, shift: 0 });
  }
  let latency = 1;
  let depth = 0;
  while (level.length > 1) {
    depth++;
    const next: TreeNode[] = [];
    const pairs: Array<[TreeNode, TreeNode | undefined]> = [];
    // An odd level passes one node through (a delay register as wide as that node: its last, or with passNarrowest its
    // narrowest) and pairs the others in order.
    let pass = -1;
    if (level.length % 2) level.forEach((node, i) => { if (pass < 0 || !passNarrowest || node.width <= level[pass]!.width) pass = i; });
    const paired = level.filter((_, i) => i !== pass);
    for (let i = 0; i < paired.length; i += 2) {
      const [a, b] = [paired[i]!, paired[i + 1]!];
      pairs.push(b.shift < a.shift ? [b, a] : [a, b]);
    }
    if (pass >= 0) pairs.splice(Math.floor(pass / 2), 0, [level[pass]!, undefined]);
    // The whole level takes two cycles when one of its carry chains would be longer than maxCarry.
    const spans = pairs.map(([lo, hi]) => (hi ? signedWidth(lo.min + (hi.min << BigInt(hi.shift - lo.shift)), lo.max + (hi.max << BigInt(hi.shift - lo.shift))) - (hi.shift - lo.shift) : 0));
    const split = spans.some((s) => s > maxCarry);
    pairs.forEach(([lo, hi], j) => {
      const name = `s${depth}_${j}_reg`;
      if (!hi) {
        if (split) {
          decls.push(`reg signed [${lo.width - 1}:0] ${name}a = ${lo.width}'sd0;`);
          stmts.push(`${name}a <= ${lo.name};`);
          decls.push(`reg signed [${lo.width - 1}:0] ${name} = ${lo.width}'sd0;`);
          stmts.push(`${name} <= ${name}a;`);
        } else {
          decls.push(`reg signed [${lo.width - 1}:0] ${name} = ${lo.width}'sd0;`);
          stmts.push(`${name} <= ${lo.name};`);
        }
        next.push({ ...lo, name });
        return;
      }
      const d = hi.shift - lo.shift;
      const min = lo.min + (hi.min << BigInt(d));
      const max = lo.max + (hi.max << BigInt(d));
      const width = signedWidth(min, max);
      const span = width - d;
      // Upper part of lo (sign copies when lo is narrower than d) and hi, both extended to the span.
      const loUpperExpr = lo.width > d
        ? extend(`${lo.name}[${lo.width - 1}:${d}]`, lo.width - d, span).replace(`{${lo.name}[${lo.width - 1}:${d}][${lo.width - d - 1}]}`, `{${lo.name}[${lo.width - 1}]}`)
        : `{${span}{${lo.name}[${lo.width - 1}]}}`;
      const hiExpr = extend(hi.name, hi.width, span);
      const low = d > 0 ? `, ${lo.name}[${d - 1}:0]` : '';
      decls.push(`reg signed [${width - 1}:0] ${name} = ${width}'sd0;`);
      if (!split) {
        stmts.push(`${name} <= {${loUpperExpr} + ${hiExpr}${low}};`);
      } else {
        // Two cycles: both halves of the span added at once (the lower with its carry out, the upper modulo 2^u, which
        // is exact since the sum fits the span), then the lower half's carry into the upper half's sum.
        const h = Math.ceil(span / 2);
        const u = span - h;
        decls.push(`reg [${h}:0] ${name}l = ${h + 1}'d0;`, `reg [${u - 1}:0] ${name}u = ${u}'d0;`);
        decls.push(`wire [${span - 1}:0] ${name}_p = ${loUpperExpr};`, `wire [${span - 1}:0] ${name}_q = ${hiExpr};`);
        if (d > 0) decls.push(`reg [${d - 1}:0] ${name}d = ${d}'d0;`);
        stmts.push(`${name}l <= {1'b0, ${name}_p[${h - 1}:0]} + {1'b0, ${name}_q[${h - 1}:0]};`);
        stmts.push(`${name}u <= ${name}_p[${span - 1}:${h}] + ${name}_q[${span - 1}:${h}];`);
        if (d > 0) stmts.push(`${name}d <= ${lo.name}[${d - 1}:0];`);
        stmts.push(`${name} <= {${name}u + {{${u - 1}{1'b0}}, ${name}l[${h}]}, ${name}l[${h - 1}:0]${d > 0 ? `, ${name}d` : ''}};`);
      }
      next.push({ name, width, min, max, shift: lo.shift });
    });
    latency += split ? 2 : 1;
    level = next;
  }
  const out = level[0]!;
  return { body: stmts.join('\n        '), decls: [...decls, `// The product: ${out.name} (weight 2^${out.shift}).`], plan: { latency, productWidth: out.width } };
}

interface TreeResult {
  body: string;
  plan: PipelinedMultiplierPlan;
  decls: string[];
}

/** Flip-flops of a tree: the widths of its registers. */
function registerBits(tree: TreeResult): number {
  return tree.decls.reduce((n, d) => n + (/^reg (?:signed )?\[(\d+):0\]/.exec(d) ? Number(/^reg (?:signed )?\[(\d+):0\]/.exec(d)![1]) + 1 : 0), 0);
}

/** Of the trees with the addend at each place among the leaves and either pass-through rule, the one with the lowest latency, then the fewest registers (the first such). */
/** bestTree's answers by its arguments: a search over every tree shape, asked for the same widths many times. */
const bestTrees = new Map<string, TreeResult>();

function bestTree(aWidth: number, bWidth: number, cWidth: number, chunk: number, maxCarry: number, booth: boolean): TreeResult {
  const key = [aWidth, bWidth, cWidth, chunk, maxCarry, booth].join();
  const known = bestTrees.get(key);
  if (known) return known;
  // Frozen: every caller shares the answer
  const best = searchTrees(aWidth, bWidth, cWidth, chunk, maxCarry, booth);
  Object.freeze(best.plan);
  Object.freeze(best.decls);
  bestTrees.set(key, Object.freeze(best));
  return best;
}

function searchTrees(aWidth: number, bWidth: number, cWidth: number, chunk: number, maxCarry: number, booth: boolean): TreeResult {
  const leaves = booth ? Math.ceil(bWidth / 2) : Math.ceil(bWidth / chunk);
  const places = cWidth === 0 ? [0] : Array.from({ length: leaves + 1 }, (_, i) => i);
  const trees = places.flatMap((at) => [false, true].map((narrow) => multiplierTree(aWidth, bWidth, cWidth, chunk, maxCarry, booth, at, narrow)));
  const better = (t: TreeResult, u: TreeResult) => t.plan.latency < u.plan.latency || (t.plan.latency === u.plan.latency && registerBits(t) < registerBits(u));
  return trees.reduce((best, t) => (better(t, best) ? t : best));
}

/** The latency and product width of emitPipelinedMultiplier for these widths. */
export function pipelinedMultiplierPlan(aWidth: number, bWidth: number, cWidth = 0, chunk = 2, maxCarry = 36, booth = false): PipelinedMultiplierPlan {
  return bestTree(aWidth, bWidth, cWidth, chunk, maxCarry, booth).plan;
}

/**
 * What a Booth multiplier (emitPipelinedMultiplier with booth) leaves out of a·b: the +1 of each negative digit's
 * one's complement, Σ neg_i · 4^i over the radix-4 digits of the signed bWidth-bit b. The caller adds it through c.
 */
export function boothCorrection(b: bigint, bWidth: number): bigint {
  const digits = Math.ceil(bWidth / 2);
  const u = BigInt.asUintN(2 * digits, b) << 1n;
  let corr = 0n;
  for (let i = 0; i < digits; i++) {
    const d = Number((u >> BigInt(2 * i)) & 7n);
    if ((d & 4) !== 0 && (d & 3) !== 3) corr += 1n << BigInt(2 * i);
  }
  return corr;
}

/**
 * p = a·b (+ c), signed, exact, pipelined: b is cut into chunk-bit slices (unsigned, the top one signed), each slice
 * times a is one registered partial product, and a binary adder tree adds them (with c) one level per cycle; a level
 * whose carry chain would exceed maxCarry bits takes two cycles (lower half and its carry, then the upper half).
 * Every register moves when `ce` is high; `p` is valid `latency` enabled cycles after a, b, c (pipelinedMultiplierPlan).
 * With `booth`, the partial products are radix-4 Booth digits of b times a (half as many LUTs on a 4-input-LUT
 * device: no adder per partial product), and p = a·b + c − boothCorrection(b).
 */
export function emitPipelinedMultiplier(aWidth: number, bWidth: number, cWidth = 0, chunk = 2, maxCarry = 36, name = 'ptf_layernorm_multiplier', booth = false): string {
  if (aWidth < 2 || bWidth < 2 || chunk < 1) throw new Error(`${name}: needs A_WIDTH, B_WIDTH ≥ 2 and chunk ≥ 1`);
  if (booth && cWidth === 0) throw new Error(`${name}: a Booth multiplier takes its correction through c`);
  const tree = bestTree(aWidth, bWidth, cWidth, chunk, maxCarry, booth);
  const pw = tree.plan.productWidth;
  const outName = tree.decls.at(-1)!.match(/: (\S+) \(/)![1]!;
  const cPort = cWidth > 0 ? `\n    input  wire signed [${cWidth - 1}:0] c,` : '';
  const what = booth ? 'a·b + c - boothCorrection(b) (radix-4 Booth digits of b)' : `a·b${cWidth > 0 ? ' + c' : ''}`;
  return render('layernorm/ptf_layernorm_multiplier.v', {
    header: headerComment(`${name}: pipelined signed multiplier p = ${what}, exact, ${tree.plan.latency} cycles`, { aWidth, bWidth, cWidth, chunk, maxCarry, booth }),
    name,
    aWidth,
    bDescription: booth ? 'radix-4 Booth digits' : `cut into ${chunk}-bit slices`,
    bWidth,
    cTerm: cWidth > 0 ? ' + c' : '',
    productWidth: pw,
    cPort,
    declarations: tree.decls.join('\n'),
    body: tree.body,
    outName,
  });
}

/**
 * round(value / 2^shift), half to even, pipelined in two cycles and without the final increment: `floor_q` is the
 * floor and `round_up` says to add one (the caller folds it into its next adder as a carry in). Cycle 1 shifts by
 * the multiple of 8 in `shift` (value extended by 8 zero bits, so the bits just below the cut stay) and ORs every
 * bit below that into a sticky bit; cycle 2 shifts by the remaining 0..7 (+8) and finds the guard bit and the sticky
 * bit. Any shift works (shifting everything out gives the sign), at any IN_WIDTH. Registers move when `ce` is high.
 */
export function emitRoundShiftPipelined(inWidth: number, shiftWidth: number, outWidth: number, name = 'ptf_layernorm_round_split'): string {
  if (outWidth > inWidth) throw new Error(`${name}: OUT_WIDTH must not exceed IN_WIDTH`);
  const sw = Math.max(shiftWidth, 4);
  const shiftIn = sw === shiftWidth ? 'shift' : `{${sw - shiftWidth}'d0, shift}`;
  const slice = outWidth === inWidth ? 'floor2' : 'floor2[OUT_WIDTH-1:0]';
  // The guard bit of a shift by 8·coarse + fine sits at bit 7 + fine of the coarse result; for that bit to exist (as a
  // sign copy) when the value is narrower than 7 bits, the value is sign-extended to 7 bits first.
  const xw = Math.max(inWidth, 7);
  const width = xw === inWidth ? 'IN_WIDTH' : String(xw);
  const valueX = xw === inWidth ? 'value' : `{{${xw - inWidth}{value[IN_WIDTH-1]}}, value}`;
  const value8 = `{${valueX}, 8'd0}`;
  return render('layernorm/ptf_layernorm_round_shift.v', {
    header: headerComment(`${name}: round(value / 2^shift) half to even as floor and a round-up bit, two cycles`, { inWidth, shiftWidth, outWidth }),
    name,
    inWidth,
    shiftWidth,
    outWidth,
    sw,
    indexWidth: Math.max(4, Math.ceil(Math.log2(xw + 8))),
    shiftIn,
    width,
    value8,
    slice,
  });
}
