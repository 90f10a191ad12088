/**
 * The attention head block: spec -> RTL and program; verification of the RTL against the chained golden model
 * (attn_score, attn_prob and attn_out taps) on a default stimulus and on the `encoder` cases of a vector file, with the
 * stage checks of the model against the file (stages.ts).
 *
 * The testbench harness takes one output stream, so the test wraps the block in a tap merger (tapMergeModule): the
 * three output streams m_score_axis, m_prob_axis and m_axis become one stream of {tag, payload} words (tag 0 score,
 * 1 probability, 2 attn_out; fixed priority, back-pressure reaches every tap), split again by tag in TypeScript.
 * Each tap's order is deterministic, so each is compared with the model in order.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { maxUnsigned } from '../common/arith.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { programBeats, programFiles, type Program } from '../common/program.ts';
import { compareBeats, emitTestbench, runTiming, simulate, type Beat, type SimHarness, type SimOptions, type SimResult } from '../common/sim.ts';
import { readEncoderCase, type EncoderCase } from '../encoder/case.ts';
import { join } from 'node:path';
import { mulberry32 } from '../common/random.ts';
import { attentionNames } from './leaves.ts';
import { attentionLayer, attentionModel, type AttentionLayer, type AttentionScales } from './model.ts';
import { ERROR_BITS, PIPELINE_OVERHEAD, STATUS_WIDTH, fifoAddrWidthOf, attentionProgram, cfgWidth, emitAttentionRtl, headCycles, memoryBits, packetCycles, programFormat, programLength, publicSpec } from './rtl.ts';
import { resolveAttention, type AttentionSpec } from './spec.ts';
import { softmaxTop } from '../softmax/rtl.ts';
import { ATTN_PROB_FQVIT_LIMIT, caseScales, caseSpec, stageChecks, type StageCount } from './stages.ts';

/** One packet: a layer (its program is loaded first) and N tokens of qkv_out codes. */
export interface AttentionRun {
  layer: AttentionLayer;
  qkv: number[][];
}

export type Tap = 'score' | 'prob' | 'out';
export const TAPS: readonly Tap[] = ['score', 'prob', 'out'];
const TAG_WIDTH = 2;

function payloadWidth(spec: AttentionSpec): number {
  return Math.max(spec.params.bits, spec.params.s_bits + 1);
}

/** The probability tap's word {zero, code}: an exact zero is code all ones with the zero bit (as the softmax emits it). */
export function probWord(t: number | null, sBits: number): bigint {
  return t === null ? (1n << BigInt(sBits)) | maxUnsigned(sBits) : BigInt(t);
}

/** What each tap must carry for a sequence of packets, with a name for each element. */
export function expectedTaps(spec: AttentionSpec, runs: readonly AttentionRun[]) {
  const taps: Record<Tap, Beat[]> = { score: [], prob: [], out: [] };
  const where: Record<Tap, string[]> = { score: [], prob: [], out: [] };
  const { heads, head_dim: hd, s_bits: sBits } = spec.params;
  runs.forEach((run, r) => {
    const m = attentionModel(spec, run.layer, run.qkv);
    const n = run.qkv.length;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          taps.score.push({ data: BigInt(m.score[h]![i]![j]!), last: j === n - 1 });
          taps.prob.push({ data: probWord(m.prob[h]![i]![j]!, sBits), last: j === n - 1 });
          where.score.push(`packet ${r} attn_score head ${h} row ${i} column ${j}`);
          where.prob.push(`packet ${r} attn_prob head ${h} row ${i} column ${j} (score ${m.score[h]![i]![j]})`);
        }
        for (let d = 0; d < hd; d++) {
          taps.out.push({ data: BigInt(m.out[i]![h * hd + d]!), last: d === hd - 1 });
          where.out.push(`packet ${r} attn_out token ${i} head ${h} element ${d}`);
        }
      }
    }
  });
  return { taps, where };
}

/** The program beats (epoch 2k) and the qkv_out packet beats (epoch 2k + 1) of a sequence of packets. */
export function stimulus(spec: AttentionSpec, runs: readonly AttentionRun[], programs: readonly Program[] = runs.map((r) => attentionProgram(spec, r.layer))) {
  const cfg: Beat[] = [];
  const data: Beat[] = [];
  runs.forEach((run, k) => {
    cfg.push(...programBeats(programs[k]!, 2 * k));
    const codes = run.qkv.flat();
    codes.forEach((q, i) => data.push({ data: BigInt(q), last: i === codes.length - 1, epoch: 2 * k + 1 }));
  });
  return { cfg, data };
}

/**
 * The testbench-only wrapper that merges the three output streams into one tagged stream. With `taps` false, the
 * score and probability taps are always ready and not forwarded (for throughput figures: the merged stream carries
 * one beat a cycle, fewer than the three taps can produce).
 */
export function tapMergeModule(spec: AttentionSpec, taps = true): { name: string; text: string } {
  const top = attentionNames(spec.prefix).attention;
  const name = `${top}_${taps ? 'taps' : 'out'}`;
  const w = payloadWidth(spec);
  const { bits, s_bits: sBits } = spec.params;
  const cfg = cfgWidth(spec);
  const pad = (width: number, expr: string) => (width === w ? expr : `{${w - width}'b0, ${expr}}`);
  const text = `\`resetall
\`timescale 1ns / 1ps
\`default_nettype none

// Testbench wrapper of ${top}: its three output streams as one stream of {tag, payload} words (tag 0 attn_score,
// 1 attn_prob, 2 attn_out), fixed priority. Not part of the block.
module ${name} (
    input  wire clk,
    input  wire rst,
    input  wire [${cfg - 1}:0] s_cfg_axis_tdata,
    input  wire s_cfg_axis_tvalid,
    output wire s_cfg_axis_tready,
    input  wire s_cfg_axis_tlast,
    input  wire [${bits - 1}:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    input  wire s_axis_tlast,
    output wire [${TAG_WIDTH + w - 1}:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready,
    output wire m_axis_tlast,
    output wire [${STATUS_WIDTH - 1}:0] status_error
);
wire [${bits - 1}:0] out_tdata, score_tdata;
wire [${sBits}:0] prob_tdata;
wire out_tvalid, out_tready, out_tlast, score_tvalid, score_tready, score_tlast, prob_tvalid, prob_tready, prob_tlast;
${top} dut (
    .clk(clk), .rst(rst),
    .s_cfg_axis_tdata(s_cfg_axis_tdata), .s_cfg_axis_tvalid(s_cfg_axis_tvalid), .s_cfg_axis_tready(s_cfg_axis_tready), .s_cfg_axis_tlast(s_cfg_axis_tlast),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(out_tdata), .m_axis_tvalid(out_tvalid), .m_axis_tready(out_tready), .m_axis_tlast(out_tlast),
    .m_score_axis_tdata(score_tdata), .m_score_axis_tvalid(score_tvalid), .m_score_axis_tready(score_tready), .m_score_axis_tlast(score_tlast),
    .m_prob_axis_tdata(prob_tdata), .m_prob_axis_tvalid(prob_tvalid), .m_prob_axis_tready(prob_tready), .m_prob_axis_tlast(prob_tlast),
    .status_error(status_error)
);
${taps ? `wire pick_score = score_tvalid;
wire pick_prob = !score_tvalid && prob_tvalid;
wire pick_out = !score_tvalid && !prob_tvalid && out_tvalid;
assign score_tready = pick_score && m_axis_tready;
assign prob_tready = pick_prob && m_axis_tready;` : `// The taps are dropped: always ready, never forwarded
wire pick_score = 1'b0;
wire pick_prob = 1'b0;
wire pick_out = out_tvalid;
assign score_tready = 1'b1;
assign prob_tready = 1'b1;
/* verilator lint_off UNUSEDSIGNAL */
wire unused_taps = score_tvalid ^ score_tlast ^ prob_tvalid ^ prob_tlast ^ (^score_tdata) ^ (^prob_tdata);
/* verilator lint_on UNUSEDSIGNAL */`}
assign out_tready = pick_out && m_axis_tready;
assign m_axis_tvalid = pick_score || pick_prob || pick_out;
assign m_axis_tdata = pick_score ? {2'd0, ${pad(bits, 'score_tdata')}} : pick_prob ? {2'd1, ${pad(sBits + 1, 'prob_tdata')}} : {2'd2, ${pad(bits, 'out_tdata')}};
assign m_axis_tlast = pick_score ? score_tlast : pick_prob ? prob_tlast : out_tlast;
endmodule

\`resetall
`;
  return { name, text };
}

/**
 * The harness of a run. `tokens`: N of every packet that is computed (the bound on cycles sums their packetCycles;
 * the input and output beats are added, one a cycle). The bound is kept tight: the testbench's time limit is a delay
 * in picoseconds, which Verilator holds in 32 bits (about 4.29 ms: 429,000 cycles at 10 ns, stall factor included).
 */
export function attentionHarness(spec: AttentionSpec, cfg: Beat[], data: Beat[], expectedBeats: number, rtl: FileSet = emitAttentionRtl(spec), taps = true, tokens: readonly number[] = [spec.params.max_tokens]): SimHarness {
  const merge = tapMergeModule(spec, taps);
  const files = new Map([...rtl].filter(([p]) => p.endsWith('.v')));
  files.set(`${merge.name}.v`, merge.text);
  const compute = tokens.reduce((sum, n) => sum + packetCycles(spec, n), 0);
  return {
    dut: merge.name,
    params: [],
    rtl: files,
    inputs: [{ prefix: 's_cfg_axis', width: cfgWidth(spec), beats: cfg }, { prefix: 's_axis', width: spec.params.bits, beats: data }],
    output: { prefix: 'm_axis', width: TAG_WIDTH + payloadWidth(spec), expectedBeats },
    // Per packet: the load, then N * N * head_dim cycles a head and pass (QK and PV overlap), plus pipelines
    // The loads, then the computation or the output beats (at most one a cycle), whichever is longer, half again to
    // spare (the merged taps measured 0.87 beats a cycle on a 197-token case)
    maxCycles: cfg.length + data.length + Math.ceil(1.5 * Math.max(expectedBeats, compute)) + 2000,
    statusWidth: STATUS_WIDTH,
  };
}

export interface TapComparison {
  mismatches: number;
  byTap: Record<Tap, number>;
  first?: string;
}

/** The merged output split by tag into the three taps; beats with an unknown tag are counted. */
export function splitTaps(spec: AttentionSpec, result: SimResult): { actual: Record<Tap, Beat[]>; badTag: number } {
  const w = payloadWidth(spec);
  const actual: Record<Tap, Beat[]> = { score: [], prob: [], out: [] };
  let badTag = 0;
  for (const b of result.beats) {
    const tap = TAPS[Number(b.data >> BigInt(w))];
    if (!tap) { badTag++; continue; }
    actual[tap].push({ data: b.data & maxUnsigned(w), last: b.last });
  }
  return { actual, badTag };
}

/** Splits the merged output by tag and compares each tap with the model, in order. */
export function compareTaps(spec: AttentionSpec, expected: ReturnType<typeof expectedTaps>, result: SimResult): TapComparison {
  const { actual, badTag } = splitTaps(spec, result);
  const byTap = { score: 0, prob: 0, out: 0 };
  let first: string | undefined = badTag ? `${badTag} output beats with an unknown tag` : undefined;
  for (const tap of TAPS) {
    const c = compareBeats(expected.taps[tap], actual[tap], (i) => expected.where[tap][i] ?? `${tap} beat ${i}`);
    byTap[tap] = c.mismatches;
    first ??= c.first;
  }
  if (result.timedOut) first ??= `timed out at cycle ${result.doneCycle}`;
  return { mismatches: badTag + byTap.score + byTap.prob + byTap.out + (result.timedOut ? 1 : 0), byTap, first };
}

/** Simulates a sequence of packets (each after its program) and compares every tap with the chained model. */
export async function runAttention(spec: AttentionSpec, runs: readonly AttentionRun[], workDir: string, options: SimOptions & { taps?: boolean } = {}) {
  const { cfg, data } = stimulus(spec, runs);
  return runAttentionBeats(spec, cfg, data, runs, workDir, options);
}

/**
 * Simulates given configuration and data beats (which may hold bad programs or packets the block must drop) and
 * compares every tap with the chained model of `accepted`, the packets that must come out.
 */
export async function runAttentionBeats(spec: AttentionSpec, cfg: Beat[], data: Beat[], accepted: readonly AttentionRun[], workDir: string, options: SimOptions & { taps?: boolean } = {}) {
  const taps = options.taps ?? true;
  const expected = expectedTaps(spec, accepted);
  if (!taps) { expected.taps.score = []; expected.taps.prob = []; }
  const total = expected.taps.score.length + expected.taps.prob.length + expected.taps.out.length;
  const result = await simulate(attentionHarness(spec, cfg, data, total, emitAttentionRtl(spec), taps, accepted.map((r) => r.qkv.length)), workDir, options);
  const comparison = compareTaps(spec, expected, result);
  if (comparison.mismatches) process.stderr.write(`${attentionNames(spec.prefix).attention}: ${comparison.mismatches} mismatching beats; first: ${comparison.first}; work folder: ${workDir}\n`);
  return { expected, result, comparison };
}

/**
 * The default layer (gen's program/default.hex, the default stimulus): s_qkv = 2^(3 - bits) (codes span 8 units),
 * zero points at mid-range, s_out = s_qkv / 2, and attn_scale the power of two nearest head_dim^-0.5. Every scale is a
 * power of two, so both rescales are exact binary fractions that the requantizer holds exactly at every width (at 16
 * bits, even frac_bits 40 cannot always reach exactness for an arbitrary float rescale: such a layer is a SpecError).
 */
export function defaultScales(spec: AttentionSpec): AttentionScales {
  const { bits, head_dim: hd, score_scale: scoreScale } = spec.params;
  const mid = 2 ** (bits - 1);
  const qkvScale = 8 / 2 ** bits;
  const attnScale = 2 ** -Math.round(Math.log2(hd) / 2);
  return { qkvScale, qkvZeroPoint: mid, attnScale, scoreScale, scoreZeroPoint: mid, outScale: qkvScale / 2, outZeroPoint: mid };
}

/** Seeded random qkv_out codes for n tokens, drawn around the zero point with a spread (so scores vary). */
export function randomQkv(spec: AttentionSpec, n: number, rnd: () => number, spread = 1): number[][] {
  const top = 2 ** spec.params.bits - 1;
  const cols = 3 * spec.params.heads * spec.params.head_dim;
  const mid = (top + 1) / 2;
  return Array.from({ length: n }, () => Array.from({ length: cols }, () => Math.max(0, Math.min(top, Math.round(mid + (rnd() - 0.5) * spread * (top + 1))))));
}

/**
 * The default stimulus (gen's standalone testbench, verify without vectors): the default layer, a packet of 1 token
 * and one of ceil(max_tokens / 3). A packet costs heads * N^2 * head_dim / lanes cycles, so a max_tokens packet (64
 * by default: about 200,000 cycles, over 30 s on Icarus) is left to test/attention-rtl.test.ts, whose random shapes
 * end on one.
 */
export function defaultRuns(spec: AttentionSpec, seed = 1): AttentionRun[] {
  const layer = attentionLayer(spec, defaultScales(spec));
  const rnd = mulberry32(seed);
  const n = spec.params.max_tokens;
  return [1, Math.max(1, Math.ceil(n / 3))].map((tokens) => ({ layer, qkv: randomQkv(spec, tokens, rnd) }));
}

export function attentionManifest(spec: AttentionSpec, rtl: FileSet): BlockManifest {
  const p = spec.params;
  const d = spec.derived;
  const names = attentionNames(spec.prefix);
  const sm = spec.derived.softmax;
  const req = (g: typeof d.score) => ({
    acc_width: g.derived.accWidth, frac_bits: p.frac_bits, shift_max: g.derived.shiftMax, shift_width: g.derived.shiftWidth,
    offset_abs_max: g.derived.offsetAbsMax, offset_width: g.derived.offsetWidth, sum_width: g.derived.sumWidth,
  });
  return {
    block: 'attention',
    top: names.attention,
    prefix: spec.prefix,
    files: [...rtl.keys()].filter((f) => f.endsWith('.v')).sort(),
    parameters: [],
    spec: publicSpec(spec),
    derived: {
      prob_frac_bits: d.probFracBits,
      score_abs_max: d.scoreAbsMax,
      out_abs_max: d.outAbsMax,
      score_requantizer: req(d.score),
      out_requantizer: req(d.out),
      requantizer: {
        cycles_per_code: d.requantCycles,
        chunk_digits: d.requantChunkDigits,
        stages: d.requantStages,
        slots: `one requantizer (gemm_requant_serial) for both passes, in slots of ${2 * d.requantCycles} cycles: a score enters in slot 0, a PV sum in slot ${d.requantCycles}`,
      },
      memory_bits: memoryBits(spec),
      cycles_per_head: headCycles(spec, p.max_tokens),
      softmax: {
        top: softmaxTop(sm),
        layer_range: {
          min_score_scale: sm.range.minScale,
          max_score_scale: sm.range.maxScale,
          meaning: 'every layer with min_score_scale <= s_score <= max_score_scale runs on this instance, its softmax exp table in its program; building the program of another is a SpecError (layer.attn_score.scale)',
        },
        table_depth: sm.range.tableDepth,
        z_max: sm.range.zMax,
        word_width: sm.derived.wordWidth,
        elem_width: sm.derived.elemWidth,
        sum_width: sm.derived.sumWidth,
      },
      fifo_entries: 2 ** fifoAddrWidthOf(spec) + 1,
      rounding: 'half-even in both requantizers (the GEMM requantizer), constants exact for every accumulator up to score_abs_max / out_abs_max (requant.ts)',
      overflow: 'none: S, O and every sum are held at full width; codes saturate to 0 .. 2^bits - 1',
    },
    latency: {
      cycles: packetCycles(spec, p.max_tokens),
      formula: 'after the last input beat of a packet of N tokens, at most heads * N * max(Q, P) + P + softmax_latency(N) + 2 * (requantizer.stages + 2 * requantizer.cycles_per_code) + ' +
        `${PIPELINE_OVERHEAD} cycles to its last output, Q = N * max(head_dim / lanes, 2 * cycles_per_code) the QK pass of a row, P = (head_dim / lanes) * max(N, 2 * cycles_per_code * lanes) the PV pass of a row (packetCycles in rtl.ts; cycles given for N = max_tokens); ` +
        `the packet's ${3 * p.heads * p.head_dim} * N input beats come first, one a cycle`,
    },
    throughput: {
      elements_per_cycle: (p.max_tokens * p.head_dim) / headCycles(spec, p.max_tokens),
      unit: `attn_out codes a cycle in the steady state (every head of a packet after its first), for N = max_tokens: N * head_dim codes in ${headCycles(spec, p.max_tokens)} cycles a head (derived.cycles_per_head)`,
      condition: `N * max(Q, P) cycles a head (headCycles in rtl.ts; Q and P as in latency.formula): the QK pass, lanes MACs a cycle (${p.lanes}), ` +
        `with the PV pass overlapped and no slower when 2 * requant_cycles * lanes <= N (here N >= ${2 * d.requantCycles * p.lanes}) and 2 * requant_cycles <= head_dim / lanes (here ${2 * d.requantCycles <= p.head_dim / p.lanes ? 'it holds' : 'it does not: a score waits for its slot'}), so N^2 * head_dim / lanes, the ideal for lanes MACs; attn_out always ready and the score and ` +
        'probability taps always ready (they carry 2 N^2 codes a head); measured exactly by test/attention-rtl.test.ts (cycles per head)',
    },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: cfgWidth(spec), meaning: `the layer program (${programLength(spec)} words: the block's own 7, then the softmax's exp table; tlast on the last); ready only while the block holds no data` },
      s_axis: { direction: 'in', tdata: p.bits, meaning: 'qkv_out codes, token by token (q | k | v, 3 * heads * head_dim a token); tlast on the last code of the last token' },
      m_axis: { direction: 'out', tdata: p.bits, meaning: 'attn_out codes: head by head, token by token, head_dim codes with tlast on the last' },
      m_score_axis: { direction: 'out', tdata: p.bits, meaning: 'attn_score codes: head by head, a row of N with tlast on the last' },
      m_prob_axis: { direction: 'out', tdata: p.s_bits + 1, meaning: 'attn_prob {zero, code}: head by head, a row of N with tlast on the last' },
    },
    errors: ERROR_BITS.map((e) => ({ ...e })),
    program: { ...programFormat(spec), file: 'program/default.hex' },
  };
}

/** The PV lanes a vector case runs on: verify --spec's (checked by resolveAttention), else `fallback`. */
function caseLanes(options: VerifyOptions, fallback: number): number {
  return (options.hardware?.lanes as number | undefined) ?? fallback;
}

export const attentionBlock: Block<AttentionSpec> = {
  name: 'attention',
  caseBlock: 'encoder',
  tolerance: {
    maxAbsDiff: 0,
    maxMismatchFraction: 0,
    reason: "model_vs_expect is the attn_out step fed the file's own attn_prob, as FQVIT.md says to compare each step (a chain fed its own probabilities carries FQ-ViT's float LIS artifact: FQVIT.md measures up to 3.7% of a chain's codes, by up to 5); every stage but attn_prob_fqvit (that artifact itself) must be 0, and the RTL equals the chained model on every tap",
    artifactStages: { attn_prob_fqvit: ATTN_PROB_FQVIT_LIMIT },
  },
  caseHardware: ['lanes'],
  summary: 'FQ-ViT attention head: QK^T with zero points, the GEMM requantizer, LIS softmax, attention x V by shifts (no multiplier)',
  resolve: resolveAttention,
  generate(spec) {
    const rtl = emitAttentionRtl(spec);
    const runs = defaultRuns(spec);
    const expected = expectedTaps(spec, runs);
    const { cfg, data } = stimulus(spec, runs);
    // The standalone testbench watches attn_out only (the wrapper keeps the score and probability taps always ready):
    // its order is fixed whatever the stalls, so the testbench checks itself against the model's attn_out beats,
    // tagged as the wrapper tags them. (The merged taps' order depends on timing; the tests split them by tag.)
    const outTag = BigInt(TAPS.indexOf('out')) << BigInt(payloadWidth(spec));
    const harness = attentionHarness(spec, cfg, data, expected.taps.out.length, rtl, false, runs.map((r) => r.qkv.length));
    const tb = emitTestbench(
      { ...harness, output: { ...harness.output, expected: expected.taps.out.map((b) => ({ data: b.data | outTag, last: b.last })) } },
      { stallPercent: 20, seed: 1 },
    );
    // The wrapper is testbench-only: it lives in tb/, not rtl/
    const merge = tapMergeModule(spec, false);
    tb.set(`tb/${merge.name}.v`, merge.text);
    tb.set('tb/files.f', tb.get('tb/files.f')!.replace(`rtl/${merge.name}.v`, `tb/${merge.name}.v`));
    const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
    files.set('rtl/manifest.json', manifestJson(attentionManifest(spec, rtl)));
    const program = programFiles('program/default', attentionProgram(spec, runs[0]!.layer));
    return mergeFileSets(files, tb, program);
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const { comparison, result, expected } = await runAttention(spec, defaultRuns(spec, options.seed ?? 1), options.workDir, options);
    return {
      block: 'attention', module: attentionNames(spec.prefix).attention, elements: expected.taps.out.length,
      rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first,
    };
  },
  async verifyCase(vectorCase, index, options: VerifyOptions): Promise<CaseReport> {
    const c = readEncoderCase(vectorCase);
    // --spec's lanes, else head_dim lanes: a head in N * N cycles a pass, the fewest simulated cycles (the model does
    // not depend on lanes; resolveAttention checks the value)
    const spec = caseSpec(c, { lanes: caseLanes(options, c.headDim) });
    const layer = attentionLayer(spec, caseScales(c));
    const { comparison } = await runAttention(spec, [{ layer, qkv: c.intermediate.qkv_out }], options.workDir, options);
    return caseReport(c, index, spec, layer, comparison);
  },
  async verifyOneInstance(cases, options: VerifyOptions) {
    const read = cases.map(({ index, vectorCase }) => ({ index, c: readEncoderCase(vectorCase) }));
    // Generation-time parameters: widths, heads, head_dim (the score scale is a layer value: the softmax's range
    // reaches down to the group's smallest)
    const groups = new Map<string, typeof read>();
    for (const r of read) {
      const key = JSON.stringify([r.c.aBits, r.c.sBits, r.c.headDim, r.c.heads]);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const reports: CaseReport[] = [];
    let instance = 0;
    for (const group of groups.values()) {
      const first = group[0]!.c;
      const spec = caseSpec(first, {
        maxTokens: Math.max(...group.map((r) => r.c.tokens)), lanes: caseLanes(options, first.headDim),
        minScoreScale: Math.min(...group.map((r) => r.c.quantizers.attn_score.scale)),
      });
      const runs = group.map((r) => ({ layer: attentionLayer(spec, caseScales(r.c)), qkv: r.c.intermediate.qkv_out }));
      const { result } = await runAttention(spec, runs, join(options.workDir, `instance-${instance++}`), options);
      const { actual, badTag } = splitTaps(spec, result);
      const offset: Record<Tap, number> = { score: 0, prob: 0, out: 0 };
      group.forEach((r, k) => {
        // This packet's slice of each tap, compared with the model of this packet alone
        const expected = expectedTaps(spec, [runs[k]!]);
        const byTap = { score: 0, prob: 0, out: 0 };
        let firstDiff: string | undefined = badTag && k === 0 ? `${badTag} output beats with an unknown tag` : undefined;
        for (const tap of TAPS) {
          const slice = actual[tap].slice(offset[tap], offset[tap] + expected.taps[tap].length);
          offset[tap] += expected.taps[tap].length;
          const cmp = compareBeats(expected.taps[tap], slice, (i) => expected.where[tap][i] ?? `${tap} beat ${i}`);
          byTap[tap] = cmp.mismatches;
          firstDiff ??= cmp.first;
        }
        const extra = k === group.length - 1 ? TAPS.reduce((n, tap) => n + Math.max(0, actual[tap].length - offset[tap]), 0) : 0;
        const mismatches = byTap.score + byTap.prob + byTap.out + extra + (k === 0 ? badTag : 0) + (result.timedOut ? 1 : 0);
        reports.push(caseReport(r.c, r.index, spec, runs[k]!.layer, { mismatches, byTap, first: firstDiff ?? (result.timedOut ? `timed out at cycle ${result.doneCycle}` : undefined) }));
      });
    }
    return { instances: groups.size, reports: reports.sort((a, b) => a.index - b.index) };
  },
};

function detail(s: StageCount): { elements: number; max_abs_diff: number } {
  return { elements: s.elements, max_abs_diff: s.maxAbsDiff };
}

/** One row of verify: the RTL comparison, the chained model against the file's attn_out, and the stage checks. */
function caseReport(c: EncoderCase, index: number, spec: AttentionSpec, layer: AttentionLayer, comparison: TapComparison): CaseReport {
  const stages = stageChecks(c, spec, layer);
  // model_vs_expect: attn_out from the file's own attn_prob (FQVIT.md: compare each step on the reference's inputs; a
  // chain fed its own probabilities carries FQ-ViT's float LIS artifact, which attn_prob_fqvit counts at its source)
  return {
    block: 'attention', index, elements: c.tokens * c.dim, rtl_vs_model: comparison.mismatches,
    model_vs_expect: stages.attn_out.mismatches, max_abs_diff: stages.attn_out.maxAbsDiff,
    stages: {
      attn_score: stages.attn_score.mismatches,
      attn_prob: stages.attn_prob.mismatches,
      attn_prob_fqvit: stages.attn_prob_fqvit.mismatches,
      attn_out: stages.attn_out.mismatches,
    },
    stage_detail: {
      attn_score: detail(stages.attn_score),
      attn_prob: detail(stages.attn_prob),
      attn_prob_fqvit: detail(stages.attn_prob_fqvit),
      attn_out: detail(stages.attn_out),
    },
    first: comparison.first ?? stages.attn_score.first ?? stages.attn_prob.first ?? stages.attn_out.first,
  };
}

export { resolveAttention };
export default attentionBlock;
