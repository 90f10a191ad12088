/**
 * The host side of the GEMM block: tiles an m × k × n problem onto the ROWS × COLS array as three input streams, and
 * turns the output stream back into an m × n matrix. The stream formats are defined here and in the RTL's header:
 *
 * - activations (`s_act_axis`): per tile, k beats {zero point, a[row ROWS-1][k], ..., a[row 0][k]}; tlast on the
 *   last beat of the K run. Rows past m are padded with the zero point (a centered value of 0).
 * - weights (`s_wgt_axis`): per tile, k beats {w[col COLS-1][k], ..., w[col 0][k]}, two's complement; tlast on the
 *   last beat (the RTL takes the run's end from the activation stream; the driver keeps both in step). Columns past
 *   n are padded with 0.
 * - channel constants (`s_param_axis`): per tile, COLS beats {B, S, M}, one per column in order; tlast on the last
 *   (informational). Padding columns get M = S = B = 0.
 * - output (`m_axis`): per tile, ROWS × COLS codes column by column (col 0 rows 0..ROWS-1, col 1, ...); tlast on the
 *   last code of the tile.
 * Tiles go row block by row block, and within one row block over every column block.
 */
import { maxUnsigned, toUnsigned } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import type { Beat } from '../common/sim.ts';
import { requantize, type ChannelConstants, type GemmProblem } from './model.ts';
import type { GemmSpec } from './spec.ts';

export interface GemmStreams {
  act: Beat[];
  wgt: Beat[];
  param: Beat[];
}

export interface TilePlan {
  m: number;
  k: number;
  n: number;
  rowTiles: number;
  colTiles: number;
}

const ZERO_CHANNEL: ChannelConstants = { mult: 0n, shift: 0, offset: 0n };

/** Checks a problem against the spec (shapes, code ranges, k ≤ max_k) and returns its tiling. */
export function planTiles(spec: GemmSpec, p: GemmProblem): TilePlan {
  const m = p.a.length;
  const n = p.w.length;
  const k = p.a[0]?.length ?? 0;
  if (m < 1) throw new SpecError('a', 'must have at least one row', m);
  if (n < 1) throw new SpecError('w', 'must have at least one row (output channel)', n);
  if (k < 1 || k > spec.maxK) throw new SpecError('k', `must be from 1 to max_k = ${spec.maxK}`, k);
  if (p.channels.length !== n) throw new SpecError('channels', `must have one entry per output channel (${n})`, p.channels.length);
  const aMax = Number(maxUnsigned(spec.aBits));
  const wLo = -(2 ** (spec.wBits - 1));
  const wHi = 2 ** (spec.wBits - 1) - 1;
  checkMatrix('a', p.a, k, 0, aMax);
  checkMatrix('w', p.w, k, wLo, wHi);
  if (!Number.isInteger(p.aZeroPoint) || p.aZeroPoint < 0 || p.aZeroPoint > aMax) {
    throw new SpecError('a_zero_point', `must be an integer from 0 to ${aMax}`, p.aZeroPoint);
  }
  for (const [i, c] of p.channels.entries()) {
    if (c.mult < 0n || c.mult > maxUnsigned(spec.fracBits)) throw new SpecError(`channels[${i}].mult`, `must be from 0 to 2^${spec.fracBits} - 1`, c.mult);
    if (c.shift < 0 || c.shift > spec.derived.shiftMax) throw new SpecError(`channels[${i}].shift`, `must be from 0 to ${spec.derived.shiftMax}`, c.shift);
    const lim = spec.derived.offsetAbsMax;
    if (c.offset < -lim || c.offset > lim) throw new SpecError(`channels[${i}].offset`, `must be within ±${lim}`, c.offset);
  }
  return { m, k, n, rowTiles: Math.ceil(m / spec.rows), colTiles: Math.ceil(n / spec.cols) };
}

function checkMatrix(name: string, x: number[][], k: number, lo: number, hi: number): void {
  for (const [i, row] of x.entries()) {
    if (row.length !== k) throw new SpecError(`${name}[${i}]`, `must have k = ${k} elements like every row`, row.length);
    for (const [j, v] of row.entries()) {
      if (!Number.isInteger(v) || v < lo || v > hi) throw new SpecError(`${name}[${i}][${j}]`, `must be an integer from ${lo} to ${hi}`, v);
    }
  }
}

/** The three input streams of a problem. */
export function buildStreams(spec: GemmSpec, p: GemmProblem): GemmStreams {
  const plan = planTiles(spec, p);
  const { rows, cols, aBits, wBits, fracBits } = spec;
  const { shiftWidth, offsetWidth } = spec.derived;
  const act: Beat[] = [];
  const wgt: Beat[] = [];
  const param: Beat[] = [];
  for (let tm = 0; tm < plan.rowTiles; tm++) {
    for (let tn = 0; tn < plan.colTiles; tn++) {
      for (let k = 0; k < plan.k; k++) {
        let a = BigInt(p.aZeroPoint) << BigInt(rows * aBits);
        for (let r = 0; r < rows; r++) a |= BigInt(p.a[tm * rows + r]?.[k] ?? p.aZeroPoint) << BigInt(r * aBits);
        let w = 0n;
        for (let c = 0; c < cols; c++) w |= toUnsigned(BigInt(p.w[tn * cols + c]?.[k] ?? 0), wBits) << BigInt(c * wBits);
        const last = k === plan.k - 1;
        act.push({ data: a, last });
        wgt.push({ data: w, last });
      }
      for (let c = 0; c < cols; c++) {
        const ch = p.channels[tn * cols + c] ?? ZERO_CHANNEL;
        const data = (toUnsigned(ch.offset, offsetWidth) << BigInt(shiftWidth + fracBits)) | (BigInt(ch.shift) << BigInt(fracBits)) | ch.mult;
        param.push({ data, last: c === cols - 1 });
      }
    }
  }
  return { act, wgt, param };
}

/** Where output beat i of a tile lands: column-major within the tile. */
function tileElement(spec: GemmSpec, i: number): { r: number; c: number } {
  return { r: i % spec.rows, c: Math.floor(i / spec.rows) };
}

/**
 * The output beats the RTL must produce, padding included: padded rows and columns accumulate 0, so their codes are
 * the requantized 0 of their channel (padding columns use the zero constants).
 */
export function expectedBeats(spec: GemmSpec, p: GemmProblem, out: bigint[][]): Beat[] {
  const plan = planTiles(spec, p);
  const beats: Beat[] = [];
  const perTile = spec.rows * spec.cols;
  for (let tm = 0; tm < plan.rowTiles; tm++) {
    for (let tn = 0; tn < plan.colTiles; tn++) {
      for (let i = 0; i < perTile; i++) {
        const { r, c } = tileElement(spec, i);
        const row = tm * spec.rows + r;
        const col = tn * spec.cols + c;
        const data = row < plan.m && col < plan.n ? out[row]![col]! : requantize(spec, 0n, p.channels[col] ?? ZERO_CHANNEL);
        beats.push({ data, last: i === perTile - 1 });
      }
    }
  }
  return beats;
}

/** The m × n result from the output beats (padding dropped); missing beats leave null. */
export function assembleOutput(spec: GemmSpec, plan: TilePlan, beats: readonly Beat[]): (bigint | null)[][] {
  const out: (bigint | null)[][] = Array.from({ length: plan.m }, () => Array<bigint | null>(plan.n).fill(null));
  const perTile = spec.rows * spec.cols;
  beats.forEach((beat, index) => {
    const tile = Math.floor(index / perTile);
    const tm = Math.floor(tile / plan.colTiles);
    const tn = tile % plan.colTiles;
    const { r, c } = tileElement(spec, index % perTile);
    const row = tm * spec.rows + r;
    const col = tn * spec.cols + c;
    if (row < plan.m && col < plan.n) out[row]![col] = beat.data;
  });
  return out;
}
