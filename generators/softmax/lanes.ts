/**
 * Lanes (spec.params.lanes > 1): a beat carries `lanes` elements, lane 0 first, with tkeep marking the lanes of a row's
 * last beat. Packing element streams into beats (stimulus and expected output), the block's reading rule for any
 * beat (so that a wrong tkeep has a defined, checkable result), and the test adapter that carries tkeep through the
 * simulation harness's tdata-only streams.
 */
import type { Beat } from '../common/sim.ts';
import { moduleName } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment } from '../common/verilog.ts';
import { softmaxStatusWidth, softmaxTop, specSummary } from './rtl.ts';
import type { SoftmaxSpec } from './spec.ts';

/**
 * Elements (one `width`-bit word each, tlast on each row's last) as beats of `lanes` words: a row fills beats from
 * lane 0, its last beat holds the rest; above one lane each beat's data is {tkeep, word of lane lanes-1, ..., lane 0}
 * with tkeep = the lanes it holds (a prefix). Lanes 1: the elements themselves. Elements after the last tlast form a
 * row without tlast.
 */
export function packLanes(elements: ReadonlyArray<{ data: bigint; last: boolean }>, lanes: number, width: number): Beat[] {
  if (lanes === 1) return elements.map((e) => ({ data: e.data, last: e.last }));
  const beats: Beat[] = [];
  let chunk: bigint[] = [];
  const flush = (last: boolean) => {
    const data = chunk.reduce((acc, w, i) => acc | (w << BigInt(i * width)), 0n);
    const keep = (1n << BigInt(chunk.length)) - 1n;
    beats.push({ data: (keep << BigInt(lanes * width)) | data, last });
    chunk = [];
  };
  for (const e of elements) {
    chunk.push(e.data);
    if (e.last || chunk.length === lanes) flush(e.last);
  }
  if (chunk.length) flush(false);
  return beats;
}

/**
 * The elements the block reads from s_axis beats {tkeep, codes} (lanes > 1), by its rule: a beat that does not end
 * its row (no tlast, and not the row's beat that reaches max_length) holds every lane, whatever its tkeep; a beat that
 * ends it holds lanes 0 up to its highest kept lane (lane 0 when none is kept), at most up to max_length. Every row
 * the block forms ends with last set. With a right tkeep this is the stream as sent.
 */
export function readLaneBeats(spec: SoftmaxSpec, beats: ReadonlyArray<{ data: bigint; last: boolean }>): Array<{ q: number; last: boolean }> {
  const { lanes, in_bits: inBits, max_length: maxLength } = spec.params;
  if (lanes === 1) return beats.map((b) => ({ q: Number(b.data), last: b.last }));
  const limitLanes = ((maxLength - 1) % lanes) + 1;
  const mask = (1n << BigInt(inBits)) - 1n;
  const out: Array<{ q: number; last: boolean }> = [];
  let beat = 0;
  for (const b of beats) {
    const keep = Number(b.data >> BigInt(lanes * inBits));
    const atLimit = beat === spec.derived.maxBeats - 1;
    const end = b.last || atLimit;
    let count = lanes;
    if (end) {
      count = Math.max(1, 32 - Math.clz32(keep));
      if (atLimit) count = Math.min(count, limitLanes);
    }
    for (let i = 0; i < count; i++) out.push({ q: Number((b.data >> BigInt(i * inBits)) & mask), last: end && i === count - 1 });
    beat = end ? 0 : beat + 1;
  }
  return out;
}

/** Index of the first element of each beat of packed output (above one lane: tkeep counts a beat's elements). */
export function beatFirstElements(beats: readonly Beat[], lanes: number, width: number): number[] {
  const first: number[] = [];
  let at = 0;
  for (const b of beats) {
    first.push(at);
    const keep = lanes === 1 ? 1 : Number(b.data >> BigInt(lanes * width));
    at += lanes === 1 ? 1 : 32 - Math.clz32(keep);
  }
  return first;
}

/** The test adapter of a spec with lanes > 1: module name, file name and text (templates/softmax/softmax_tb_keep.v.hbs). */
export function laneTestWrapper(spec: SoftmaxSpec): { name: string; file: string; text: string } {
  const { lanes, in_bits: inBits } = spec.params;
  const outWidth = spec.derived.outWidth;
  const name = moduleName(spec.prefix, 'softmax_tb_keep');
  const text = render('softmax/softmax_tb_keep.v', {
    header: headerComment(`${name}: test adapter of ${softmaxTop(spec)} (tkeep inside tdata)`, specSummary(spec)),
    name,
    top: softmaxTop(spec),
    lanes,
    wordMsb: spec.derived.wordWidth - 1,
    sDataMsb: lanes * inBits - 1,
    sKeepLsb: lanes * inBits,
    sMsb: lanes * inBits + lanes - 1,
    mDataMsb: lanes * outWidth - 1,
    mKeepLsb: lanes * outWidth,
    mMsb: lanes * outWidth + lanes - 1,
    statusMsb: softmaxStatusWidth(spec) - 1,
  });
  return { name, file: `${name}.v`, text };
}
