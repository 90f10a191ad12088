/**
 * The one reader of an `encoder` case of a vector file (../shared/vectors/FORMAT.md, "encoder"): a whole FQ-ViT
 * Block calibrated by FQ-ViT's observers, with every intermediate code. Attention, GELU, residual and the encoder
 * model all read cases through this, so the fields are checked, and named, in one place.
 */
import { UsageError } from '../common/errors.ts';
import { intMatrix } from '../common/vectors.ts';

/** A layer-wise uniform quantizer: value = (code - zeroPoint) * scale. */
export interface Quantizer {
  scale: number;
  zeroPoint: number;
}

/** A PTF quantizer: per-channel scale = scaleMin * 2^alpha[c], one zero point. */
export interface PtfQuantizer {
  scales: number[];
  scaleMin: number;
  alpha: number[];
  zeroPoint: number;
}

export interface LinearLayer {
  /** Weight codes, one row per output channel (out × in). */
  w: number[][];
  wScale: number[];
  bias: number[];
}

export interface NormLayer {
  gamma: number[];
  beta: number[];
}

export const UNIFORM_QUANTIZERS = ['norm1_out', 'qkv_out', 'attn_score', 'attn_out', 'proj_out', 'norm2_out', 'fc1_act', 'fc2_out'] as const;
export const PTF_QUANTIZERS = ['in', 'resid1', 'resid2'] as const;
export type UniformName = (typeof UNIFORM_QUANTIZERS)[number];
export type PtfName = (typeof PTF_QUANTIZERS)[number];

/** Codes after each step, as the file names them: N × width matrices, or H × N × N for the attention maps. */
export interface Intermediate {
  norm1_out: number[][];
  qkv_out: number[][];
  /** H × N × N. */
  attn_score: number[][][];
  /** H × N × N log2 codes, null = exactly 0: FQ-ViT's float run. */
  attn_prob: Array<Array<Array<number | null>>>;
  /** The same in exact integer arithmetic. */
  attn_prob_exact: Array<Array<Array<number | null>>>;
  attn_out: number[][];
  proj_out: number[][];
  resid1: number[][];
  norm2_out: number[][];
  fc1_act: number[][];
  fc2_out: number[][];
  resid2: number[][];
}

export interface EncoderCase {
  kind: string;
  /** N, C, H, C / H, MLP hidden width. */
  tokens: number;
  dim: number;
  heads: number;
  headDim: number;
  mlpHidden: number;
  aBits: number;
  wBits: number;
  sBits: number;
  attnScale: number;
  quantizers: Record<UniformName, Quantizer> & Record<PtfName, PtfQuantizer>;
  layers: { norm1: NormLayer; norm2: NormLayer; qkv: LinearLayer; proj: LinearLayer; fc1: LinearLayer; fc2: LinearLayer };
  /** N × C input codes (quantizer `in`). */
  inputs: number[][];
  intermediate: Intermediate;
  /** N × C output codes (= intermediate.resid2). */
  expect: number[][];
  /** N × C floats: the unquantized block on the same tokens. */
  floatOut: number[][];
}

function fail(field: string, what: string): never {
  throw new UsageError(`encoder case: ${field} must be ${what}`);
}

function positiveInt(c: Record<string, unknown>, field: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(field, 'a positive integer');
  return v;
}

function finiteNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'a finite number');
  return v;
}

function numbers(v: unknown, field: string, length: number): number[] {
  if (!Array.isArray(v) || v.length !== length) fail(field, `an array of ${length} numbers`);
  return v.map((x, i) => finiteNumber(x, `${field}[${i}]`));
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'an object');
  return v as Record<string, unknown>;
}

function floatMatrix(v: unknown, field: string, rows: number, cols: number): number[][] {
  if (!Array.isArray(v) || v.length !== rows) fail(field, `a ${rows} × ${cols} array of numbers`);
  return v.map((r, i) => numbers(r, `${field}[${i}]`, cols));
}

/** H matrices of N × N codes (null allowed where `nullable`). */
function maps(v: unknown, field: string, heads: number, n: number, nullable: boolean): Array<Array<Array<number | null>>> {
  if (!Array.isArray(v) || v.length !== heads) fail(field, `an array of ${heads} ${n} × ${n} matrices`);
  return v.map((m, h) => {
    const rows = intMatrix({ [field]: m }, field, n, n);
    if (!nullable && rows.some((r) => r.some((x) => x === null))) fail(`${field}[${h}]`, 'integer codes (no null)');
    return rows;
  });
}

/** Reads and checks one `encoder` case. */
export function readEncoderCase(c: Record<string, unknown>): EncoderCase {
  const tokens = positiveInt(c, 'tokens');
  const dim = positiveInt(c, 'dim');
  const heads = positiveInt(c, 'heads');
  const mlpHidden = positiveInt(c, 'mlp_hidden');
  if (dim % heads !== 0) fail('dim', `a multiple of heads (${heads})`);
  const q = record(c.quantizers, 'quantizers');
  const quantizers = {} as EncoderCase['quantizers'];
  for (const name of UNIFORM_QUANTIZERS) {
    const r = record(q[name], `quantizers.${name}`);
    quantizers[name] = { scale: finiteNumber(r.scale, `quantizers.${name}.scale`), zeroPoint: positiveOrZero(r.zero_point, `quantizers.${name}.zero_point`) };
  }
  for (const name of PTF_QUANTIZERS) {
    const r = record(q[name], `quantizers.${name}`);
    const alpha = numbers(r.alpha, `quantizers.${name}.alpha`, dim);
    if (alpha.some((a) => !Number.isInteger(a) || a < 0 || a > 3)) fail(`quantizers.${name}.alpha`, 'integers from 0 to 3');
    quantizers[name] = {
      scales: numbers(r.scale, `quantizers.${name}.scale`, dim),
      scaleMin: finiteNumber(r.scale_min, `quantizers.${name}.scale_min`),
      alpha,
      zeroPoint: positiveOrZero(r.zero_point, `quantizers.${name}.zero_point`),
    };
  }
  const l = record(c.layers, 'layers');
  const norm = (name: string): NormLayer => {
    const r = record(l[name], `layers.${name}`);
    return { gamma: numbers(r.gamma, `layers.${name}.gamma`, dim), beta: numbers(r.beta, `layers.${name}.beta`, dim) };
  };
  const linear = (name: string, out: number, inp: number): LinearLayer => {
    const r = record(l[name], `layers.${name}`);
    return {
      w: intMatrix(r, 'w', out, inp),
      wScale: numbers(r.w_scale, `layers.${name}.w_scale`, out),
      bias: numbers(r.bias, `layers.${name}.bias`, out),
    };
  };
  const im = record(c.intermediate, 'intermediate');
  const codes = (name: string, cols: number) => intMatrix(im, name, tokens, cols);
  return {
    kind: typeof c.kind === 'string' ? c.kind : '',
    tokens, dim, heads, headDim: dim / heads, mlpHidden,
    aBits: positiveInt(c, 'a_bits'),
    wBits: positiveInt(c, 'w_bits'),
    sBits: positiveInt(c, 's_bits'),
    attnScale: finiteNumber(c.attn_scale, 'attn_scale'),
    quantizers,
    layers: {
      norm1: norm('norm1'), norm2: norm('norm2'),
      qkv: linear('qkv', 3 * dim, dim), proj: linear('proj', dim, dim),
      fc1: linear('fc1', mlpHidden, dim), fc2: linear('fc2', dim, mlpHidden),
    },
    inputs: intMatrix(c, 'inputs', tokens, dim),
    intermediate: {
      norm1_out: codes('norm1_out', dim),
      qkv_out: codes('qkv_out', 3 * dim),
      attn_score: maps(im.attn_score, 'attn_score', heads, tokens, false) as number[][][],
      attn_prob: maps(im.attn_prob, 'attn_prob', heads, tokens, true),
      attn_prob_exact: maps(im.attn_prob_exact, 'attn_prob_exact', heads, tokens, true),
      attn_out: codes('attn_out', dim),
      proj_out: codes('proj_out', dim),
      resid1: codes('resid1', dim),
      norm2_out: codes('norm2_out', dim),
      fc1_act: codes('fc1_act', mlpHidden),
      fc2_out: codes('fc2_out', dim),
      resid2: codes('resid2', dim),
    },
    expect: intMatrix(c, 'expect', tokens, dim),
    floatOut: floatMatrix(c.float_out, 'float_out', tokens, dim),
  };
}

function positiveOrZero(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(field, 'an integer ≥ 0');
  return v;
}
