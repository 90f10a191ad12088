/**
 * Lanes: element-wise blocks take and give `lanes` elements per beat. A token of C channels is ceil(C / lanes) beats,
 * channel lanes·b + l in word l of beat b; a token whose C is not a multiple of lanes ends with a partial beat whose
 * words from lane C mod lanes up are ignored on input and 0 on output; tlast is on the token's last beat.
 */
import { clog2, unsignedWidth } from './arith.ts';
import { hexLiteral } from './verilog.ts';
import { SpecError } from './errors.ts';

export const LANE_CHOICES = [1, 2, 4, 8] as const;

/**
 * How an element-wise unit (the gelu and residual lanes, the layernorm element unit) computes: "pipelined", a
 * register stage per step, an element every clock; "serial", small adders doing one step a clock, an element every
 * few tens of clocks in a fraction of the logic. Same results either way.
 */
export const LANE_DATAPATHS = ['pipelined', 'serial'] as const;
export type LaneDatapath = (typeof LANE_DATAPATHS)[number];

/**
 * A lane module's template (`<block>/<block>_lane.v` or `<block>/<block>_serial_lane.v`) and its header line, for a
 * block whose lanes take `period` clocks an element when serial (gelu, residual).
 */
export function laneModule(block: string, title: string, moduleName: string, datapath: LaneDatapath, period: number): { template: string; what: string } {
  return datapath === 'serial'
    ? { template: `${block}/${block}_serial_lane.v`, what: `${moduleName}: one serial lane of the ${title} block, one element every ${period} cycles` }
    : { template: `${block}/${block}_lane.v`, what: `${moduleName}: one lane of the ${title} block, one element per cycle, never stalls` };
}

/**
 * Widths around a lane pipeline of `laneLatency` register stages that never stalls inside: beats are taken only while
 * an output FIFO has room for everything in flight, so tready is a registered count (gelu, residual).
 */
export interface LanePipeline {
  /** Register stages of a lane (the block states which). */
  laneLatency: number;
  /** Cycles from an accepted beat to its output beat (no stalls): the lane, then two through the output FIFO. */
  latency: number;
  /** The output FIFO holds 2^fifoAddr beats plus its head (more than the beats a full pipeline holds). */
  fifoAddr: number;
  capacity: number;
  /** Depth and address width of each lane's per-channel banks (channel c in lane c mod lanes, address c / lanes). */
  bankDepth: number;
  bankWidth: number;
  laneBits: number;
  /** Width of the in-flight count (up to capacity). */
  flightWidth: number;
  /** Clocks between the elements a lane takes: 1 pipelined, more for a serial lane. */
  elementPeriod: number;
  /** Width of a serial lane's step counter, 0 .. elementPeriod (0 when pipelined). */
  stepWidth: number;
}

/**
 * A lane takes an element every `elementPeriod` clocks (1: a pipeline), so it holds at most
 * ceil(laneLatency / elementPeriod) beats at once; the output FIFO is sized for that, with room for the round trip of
 * its registered in-flight count in a pipeline; a serial lane (one element at a time, tens of clocks each) needs two
 * entries: the one it finishes and the one before.
 */
export function lanePipeline(laneLatency: number, maxChannels: number, lanes: number, elementPeriod = 1): LanePipeline {
  const fifoAddr = elementPeriod > 1 ? 1 : clog2(Math.ceil(laneLatency / elementPeriod) + 4);
  const capacity = 2 ** fifoAddr + 1;
  const bankDepth = Math.ceil(maxChannels / lanes);
  return {
    laneLatency,
    latency: laneLatency + 2,
    fifoAddr,
    capacity,
    bankDepth,
    bankWidth: unsignedWidth(bankDepth - 1),
    laneBits: clog2(lanes),
    flightWidth: unsignedWidth(capacity) + 1,
    elementPeriod,
    stepWidth: elementPeriod > 1 ? unsignedWidth(elementPeriod) : 0,
  };
}

/**
 * The spec summary a lane block writes into its headers: the datapath only when serial, so that the pipelined
 * blocks' headers (and bytes) stay those from before the option.
 */
export function laneBlockSummary<P extends { datapath: LaneDatapath }>(block: string, prefix: string, params: P): Record<string, unknown> {
  const { datapath, ...rest } = params;
  return { block, prefix, ...rest, ...(datapath === 'serial' ? { datapath } : {}) };
}

/**
 * The values a lane-pipeline top's template binds (gelu, residual): lanes, the pipeline's widths, the output FIFO and
 * the in-flight bound, and the channel counter's last value.
 */
export function lanePipelineView(d: LanePipeline & { chanWidth: number }, lanes: number, maxChannels: number) {
  return {
    lanes,
    singleLane: lanes === 1,
    serial: d.elementPeriod > 1,
    elementPeriod: d.elementPeriod,
    laneBits: d.laneBits,
    bankWidth: d.bankWidth,
    laneLatency: d.laneLatency,
    fifoAddr: d.fifoAddr,
    capacity: hexLiteral(d.flightWidth, d.capacity),
    flightWidth: d.flightWidth,
    chanWidth: d.chanWidth,
    maxChannels,
    maxChanLast: hexLiteral(d.chanWidth, maxChannels - 1),
    chanLastAllOnes: maxChannels === 2 ** d.chanWidth,
  };
}

/** `lanes` of a spec: 1, 2, 4 or 8, and no more than the most channels. */
export function lanesParam(block: string, value: unknown, maxChannels: number): number {
  if (typeof value !== 'number' || !(LANE_CHOICES as readonly number[]).includes(value)) {
    throw new SpecError(`${block}.lanes`, `must be one of ${LANE_CHOICES.join(', ')}`, value);
  }
  if (maxChannels < value) throw new SpecError(`${block}.max_channels`, `must be at least lanes = ${value} (from ${value} to 4096)`, maxChannels);
  return value;
}

/**
 * Packs a stream of elements (each with its channel, from the model's channel count) into beats of `lanes` words:
 * a new beat at channel 0 and every `lanes` channels; unused words are `fill`. `last` of a beat is its last element's.
 */
export function packLanes<T>(elements: readonly T[], channels: readonly number[], lanes: number, word: (e: T) => bigint, last: (e: T) => boolean, width: number, fill = 0n): Array<{ data: bigint; last: boolean }> {
  const beats: Array<{ data: bigint; last: boolean }> = [];
  let words: bigint[] = [];
  let isLast = false;
  const flush = () => {
    if (words.length === 0) return;
    let data = 0n;
    for (let l = lanes - 1; l >= 0; l--) data = (data << BigInt(width)) | (words[l] ?? fill);
    beats.push({ data, last: isLast });
    words = [];
  };
  elements.forEach((e, i) => {
    const lane = channels[i]! % lanes;
    if (lane === 0 || lane < words.length) flush();
    words[lane] = word(e);
    isLast = last(e);
    const next = channels[i + 1];
    if (next === undefined || next === 0 || next % lanes === 0) flush();
  });
  flush();
  return beats;
}

/**
 * The codes of beats packed by the lane rule, tokens of `channels` codes each: every word but those past the last
 * channel in a token's last beat (lanes 1: one code a beat).
 */
export function tokenCodes(beats: ReadonlyArray<{ data: bigint }>, lanes: number, width: number, channels: number): number[] {
  const beatsPerToken = Math.ceil(channels / lanes);
  const lastBeatWords = channels - (beatsPerToken - 1) * lanes;
  return beats.flatMap((b, i) => unpackLanes(b.data, lanes, width).slice(0, i % beatsPerToken === beatsPerToken - 1 ? lastBeatWords : lanes).map(Number));
}

/** Splits beats of `lanes` words back into words (lowest lane first). */
export function unpackLanes(data: bigint, lanes: number, width: number): bigint[] {
  const mask = (1n << BigInt(width)) - 1n;
  return Array.from({ length: lanes }, (_, l) => (data >> BigInt(l * width)) & mask);
}
