// LIS softmax RTL against the golden model in Icarus: a sweep of widths, lengths, output widths and the n option
// under random stalls (the default layer's program loaded first); every row of 3-bit codes with L <= 4 in one
// simulation; layers reprogrammed between rows of one stream; each status_error bit and the recovery after it; the
// public vectors' cases one instance each and all on one instance; latency and back-to-back throughput measured in
// simulation; the log2 rounding unit alone on ties and extremes; lint of every generated module.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintVerilator, lintYosys } from '../generators/common/lint.ts';
import { log2RoundCode } from '../generators/softmax/model.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { simulate, simulateAndCompare } from '../generators/common/sim.ts';
import { defaultStimulus, expectedBeats, programPhase, randomRows, rowsToBeats, runSoftmax, softmaxBlock, softmaxHarness, type SoftmaxPhase } from '../generators/softmax/index.ts';
import { softmaxProgram } from '../generators/softmax/program.ts';
import { SOFTMAX_TOP, emitSoftmaxRtl, softmaxLatency, softmaxTop } from '../generators/softmax/rtl.ts';
import { resolveSoftmax, softmaxLayer } from '../generators/softmax/spec.ts';
import { LOG2_ROUND_LATENCY, emitLog2RoundUnit } from '../generators/softmax/units.ts';

const work = () => mkdtempSync(join(tmpdir(), 'softmax-'));

interface SweepCase { bits: number; out: number; maxLen: number; n?: number; scale?: number; stall: number; seed: number; sumWidth?: number }

const SWEEP: SweepCase[] = [
  { bits: 8, out: 8, maxLen: 197, stall: 20, seed: 1 },
  { bits: 8, out: 4, maxLen: 197, scale: 0.02099609375, stall: 30, seed: 2 },
  { bits: 5, out: 3, maxLen: 16, stall: 50, seed: 3 },
  { bits: 6, out: 5, maxLen: 40, n: 16, stall: 20, seed: 4 },
  { bits: 7, out: 4, maxLen: 33, n: 8, scale: 0.05, stall: 10, seed: 5 },
  { bits: 2, out: 1, maxLen: 3, stall: 40, seed: 6 },
  { bits: 12, out: 6, maxLen: 24, scale: 0.01, n: 24, stall: 20, seed: 7 },
  { bits: 16, out: 4, maxLen: 30, stall: 20, seed: 8 },
  // Row sums past 2^52 (no float64 bound in hardware): 55-bit E at s = 0.005, 60-bit at s = 0.001, 87-bit at s = 2^-25.
  { bits: 8, out: 4, maxLen: 197, scale: 0.005, stall: 25, seed: 9, sumWidth: 55 },
  { bits: 8, out: 8, maxLen: 197, scale: 0.001, stall: 20, seed: 10, sumWidth: 60 },
  { bits: 12, out: 8, maxLen: 40, scale: 2 ** -25, stall: 30, seed: 12, sumWidth: 87 },
];

describe('softmax RTL equals the golden model (Icarus, random stalls)', () => {
  it.each(SWEEP)('in $bits bits, out $out bits, L <= $maxLen, n $n, stall $stall%', async (c) => {
    const spec = resolveSoftmax(c.bits, { out_bits: c.out, max_length: c.maxLen, ...(c.n ? { n: c.n } : {}), ...(c.scale ? { scale: c.scale } : {}) });
    if (c.sumWidth) expect(spec.derived.sumWidth).toBe(c.sumWidth);
    const rows = randomRows(c.bits, c.maxLen, Math.max(12, Math.ceil(1200 / c.maxLen)), c.seed);
    const beats = [...rowsToBeats(rows), ...defaultStimulus(spec, c.seed)];
    const r = await runSoftmax(spec, beats, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.expected.length).toBe(beats.length);
  });

  it('every row of 3-bit codes with L <= 4 (18,056 elements), 3-bit output codes, in one run', async () => {
    const rows: number[][] = [];
    for (let len = 1; len <= 4; len++) {
      for (let i = 0; i < 8 ** len; i++) rows.push(Array.from({ length: len }, (_, j) => (i >> (3 * j)) & 7));
    }
    const spec = resolveSoftmax(3, { out_bits: 3, max_length: 4 });
    const r = await runSoftmax(spec, rowsToBeats(rows), work(), { stallPercent: 15, seed: 11 });
    expect(r.expected.length).toBe(18056);
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    // The space holds exact zeros (t >= 8) and every code.
    const codes = new Set(r.expected.map((b) => b.data));
    expect(codes.size).toBe(9);
  });
});

describe('softmax programs: one instance, several layers (Icarus, random stalls)', () => {
  it('two layers back to back in one stream, reprogrammed between rows, the program kept across phases', async () => {
    const spec = resolveSoftmax(8, { min_scale: 0.02099609375, scale: 0.1099853515625, max_length: 64 });
    const a = softmaxLayer(spec, 0.02313232421875);
    const b = softmaxLayer(spec, 0.29998779296875);
    expect(a.constants).not.toEqual(b.constants);
    const rows = randomRows(8, 64, 14, 21);
    const same = rowsToBeats(rows);
    // The same rows give different codes on the two layers, so a table that was not reloaded would show.
    expect(expectedBeats(spec, same, a)).not.toEqual(expectedBeats(spec, same, b));
    const phases: SoftmaxPhase[] = [
      programPhase(spec, a, same),
      programPhase(spec, b, same),
      { layer: b, beats: rowsToBeats(randomRows(8, 64, 6, 22)) },
      programPhase(spec, a, rowsToBeats(randomRows(8, 64, 6, 23))),
      programPhase(spec, spec.layer, defaultStimulus(spec, 24)),
    ];
    for (const [stall, seed] of [[30, 1], [60, 2]] as const) {
      const r = await runSoftmax(spec, phases, work(), { stallPercent: stall, seed });
      expect(r.comparison.first).toBeUndefined();
      expect(r.comparison.mismatches).toBe(0);
      expect(r.result.statusError).toBe(0n);
    }
  });

  describe('status_error: each bit rises on its bad input, and the block recovers', () => {
    // 4-bit codes, layers from s = 0.25 (c = 44: z has 6 bits, 45..63 are out of range; m has 5 bits, 31 is above n).
    const spec = resolveSoftmax(4, { min_scale: 0.25, scale: 0.5, max_length: 8 });
    const layer = softmaxLayer(spec, 0.3);
    const words = softmaxProgram(spec, layer).words;
    const asBeats = (ws: readonly bigint[]) => ws.map((data, i) => ({ data, last: i === ws.length - 1 }));
    const rows = (seed: number) => rowsToBeats(randomRows(4, 8, 10, seed));
    const zBits = BigInt(spec.derived.zWidth);
    const cases: Array<[string, SoftmaxPhase[], bigint]> = [
      ['data before any program (bit 2)', [{ layer: null, beats: rows(1) }, programPhase(spec, layer, rows(2))], 0b100n],
      ['a word with z above the largest c (bit 0), then rows it refuses (bit 2)', [
        { cfg: asBeats(words.map((w, d) => (d === 5 ? (w >> zBits << zBits) | (spec.range.zMax + 1n) : w))), layer: null, beats: rows(3) },
        programPhase(spec, layer, rows(4)),
      ], 0b101n],
      ['a word with m above n (bit 0)', [
        { cfg: asBeats(words.map((w, d) => (d === 0 ? (31n << zBits) | (w & ((1n << zBits) - 1n)) : w))), layer: null, beats: [] },
        programPhase(spec, layer, rows(5)),
      ], 0b001n],
      ['a program one word short and one word long (bit 1), each refused (bit 2)', [
        programPhase(spec, layer, rows(6)),
        { cfg: asBeats(words.slice(0, -1)), layer: null, beats: rows(7) },
        { cfg: asBeats([...words, words[0]!, words[1]!]), layer: null, beats: rows(8) },
        programPhase(spec, spec.layer, rows(9)),
      ], 0b110n],
    ];
    it.each(cases)('%s', async (_name, phases, status) => {
      const r = await runSoftmax(spec, phases, work(), { stallPercent: 30, seed: 7 });
      expect(r.result.statusError).toBe(status);
      // Recovery: the good programs' rows are exact, the refused ones' rows gave no output.
      expect(r.comparison.first).toBeUndefined();
      expect(r.comparison.mismatches).toBe(0);
      expect(r.expected.length).toBeGreaterThan(0);
    });

    it('rst forgets the program: rows replayed after a reset, before any new program, are dropped (bit 2)', async () => {
      const rows1 = rows(12);
      const phases = [programPhase(spec, layer, rows1), programPhase(spec, spec.layer, rows(13))];
      const harness = softmaxHarness(spec, phases);
      const once = await simulate(harness, work(), { stallPercent: 20, seed: 9 });
      expect(once.beats.length).toBe(harness.output.expectedBeats);
      // Reset while rows1 comes out; replay rows1 (epoch 1) but only the second program (epoch 2): rows1 now has no
      // program and gives nothing, the second layer's rows are exact.
      const expected = expectedBeats(spec, phases[1]!.beats, spec.layer);
      const midReset = { cycle: once.beats[2]!.cycle, restartAt: { s_cfg_axis: words.length, s_axis: 0 } };
      const r = await simulateAndCompare({ ...harness, output: { ...harness.output, expectedBeats: expected.length } }, work(), { stallPercent: 20, seed: 9, midReset }, expected);
      expect(r.result.beatsBeforeReset.length).toBeGreaterThan(0);
      expect(r.comparison).toEqual({ mismatches: 0, first: undefined });
      expect(r.result.statusError).toBe(0b100n);
    });

    it('and none rises on good programs', async () => {
      const r = await runSoftmax(spec, [programPhase(spec, layer, rows(10)), programPhase(spec, spec.layer, rows(11))], work(), { stallPercent: 30, seed: 8 });
      expect(r.result.statusError).toBe(0n);
      expect(r.comparison.mismatches).toBe(0);
    });
  });
});

describe('softmax program port, directed (Icarus)', () => {
  // Orders the epoch testbench never produces: an input row offered while a program is half loaded (the program must
  // finish, then the row runs on it: no deadlock), and a row and a program's first word offered in the same idle cycle
  // (the row goes first, on the old program; the new program follows once the row is out).
  it('a row offered mid-program waits for the program; in a tie the row goes first', async () => {
    const spec = resolveSoftmax(4, { min_scale: 0.25, scale: 0.5, max_length: 4 });
    const a = softmaxProgram(spec, softmaxLayer(spec, 0.3)).words;
    const b = softmaxProgram(spec, softmaxLayer(spec, 0.5)).words;
    const W = spec.derived.wordWidth;
    const O = spec.derived.outWidth;
    const dir = work();
    for (const [p, t] of emitSoftmaxRtl(spec)) if (p.endsWith('.v')) writeFileSync(join(dir, p), t);
    const rom = (name: string, ws: readonly bigint[]) => ws.map((w, i) => `    ${name}[${i}] = ${W}'d${w};`).join('\n');
    writeFileSync(join(dir, 'tb.v'), `\`timescale 1ns / 1ps
module tb;
reg clk = 1'b0;
reg rst = 1'b1;
reg [${W - 1}:0] cfg_data = 0;
reg cfg_valid = 1'b0;
reg cfg_last = 1'b0;
wire cfg_ready;
reg [3:0] q = 0;
reg q_valid = 1'b0;
reg q_last = 1'b0;
wire q_ready;
wire [${O - 1}:0] out_data;
wire out_valid;
wire out_last;
wire [2:0] status;
reg [${W - 1}:0] prog_a [0:${a.length - 1}];
reg [${W - 1}:0] prog_b [0:${b.length - 1}];
integer cycle = 0;
integer i;
${softmaxTop(spec)} dut (
    .clk(clk), .rst(rst),
    .s_cfg_axis_tdata(cfg_data), .s_cfg_axis_tvalid(cfg_valid), .s_cfg_axis_tready(cfg_ready), .s_cfg_axis_tlast(cfg_last),
    .s_axis_tdata(q), .s_axis_tvalid(q_valid), .s_axis_tready(q_ready), .s_axis_tlast(q_last),
    .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(1'b1), .m_axis_tlast(out_last),
    .status_error(status)
);
always #5 clk = ~clk;
always @(posedge clk) begin
    cycle <= cycle + 1;
    if (cfg_valid && cfg_ready) $display("CFG %0d %0d", cycle, cfg_last);
    if (q_valid && q_ready) $display("IN %0d %0d", cycle, q);
    if (out_valid) $display("OUT %0d %0d %0d", cycle, out_data, out_last);
end
// Offers a word and holds it until taken.
task send_cfg(input [${W - 1}:0] w, input l);
begin
    cfg_data <= w; cfg_last <= l; cfg_valid <= 1'b1;
    @(posedge clk); while (!cfg_ready) @(posedge clk);
    cfg_valid <= 1'b0;
end
endtask
initial begin
${rom('prog_a', a)}
${rom('prog_b', b)}
    repeat (4) @(posedge clk);
    rst <= 1'b0;
    @(posedge clk);
    // Program A; from its third word on, a row [9, 2] is offered (and held).
    fork
        begin
            for (i = 0; i < ${a.length}; i = i + 1) send_cfg(prog_a[i], i == ${a.length - 1});
        end
        begin
            repeat (3) @(posedge clk);
            q <= 9; q_last <= 1'b0; q_valid <= 1'b1;
            @(posedge clk); while (!q_ready) @(posedge clk);
            q <= 2; q_last <= 1'b1;
            @(posedge clk); while (!q_ready) @(posedge clk);
            q_valid <= 1'b0;
        end
    join
    repeat (80) @(posedge clk);
    // A tie in an idle cycle: the row [5] and program B's first word.
    fork
        begin
            for (i = 0; i < ${b.length}; i = i + 1) send_cfg(prog_b[i], i == ${b.length - 1});
        end
        begin
            q <= 5; q_last <= 1'b1; q_valid <= 1'b1;
            @(posedge clk); while (!q_ready) @(posedge clk);
            q_valid <= 1'b0;
        end
    join
    // A row on program B.
    q <= 9; q_last <= 1'b0; q_valid <= 1'b1;
    @(posedge clk); while (!q_ready) @(posedge clk);
    q <= 2; q_last <= 1'b1;
    @(posedge clk); while (!q_ready) @(posedge clk);
    q_valid <= 1'b0;
    repeat (80) @(posedge clk);
    $display("STATUS %0d", status);
    $finish;
end
endmodule
`);
    await execa('iverilog', ['-g2005', '-Wall', '-Wno-timescale', '-o', 'sim.vvp', '-s', 'tb', ...[...emitSoftmaxRtl(spec).keys()].filter((p) => p.endsWith('.v')), 'tb.v'], { cwd: dir });
    const log = (await execa('vvp', ['-n', 'sim.vvp'], { cwd: dir })).stdout.split('\n').map((l) => l.trim().split(' '));
    const at = (kind: string) => log.filter((l) => l[0] === kind).map((l) => l.slice(1).map(Number));
    const cfg = at('CFG');
    const input = at('IN');
    const out = at('OUT');
    const cfgLast = cfg.filter((c) => c[1] === 1).map((c) => c[0]!);
    expect(cfg.length).toBe(a.length + b.length);
    expect(cfgLast.length).toBe(2);
    // The row offered mid-program waited for the program's end (and its check); every word was taken.
    expect(input[0]![0]).toBeGreaterThan(cfgLast[0]! + 1);
    // The tie: the row [5] was taken before program B's first word, which waited until that row was out.
    const bFirst = cfg[a.length]![0]!;
    expect(input[2]![1]).toBe(5);
    expect(input[2]![0]).toBeLessThan(bFirst);
    expect(out[2]![0]).toBeLessThan(bFirst);
    expect(input[3]![0]).toBeGreaterThan(cfgLast[1]!);
    // Outputs: [9, 2] and [5] on layer A, [9, 2] on layer B.
    const la = softmaxLayer(spec, 0.3);
    const lb = softmaxLayer(spec, 0.5);
    const want = [
      ...expectedBeats(spec, rowsToBeats([[9, 2], [5]]), la),
      ...expectedBeats(spec, rowsToBeats([[9, 2]]), lb),
    ].map((x) => [Number(x.data), Number(x.last)]);
    expect(expectedBeats(spec, rowsToBeats([[9, 2]]), la)).not.toEqual(expectedBeats(spec, rowsToBeats([[9, 2]]), lb));
    expect(out.map((o) => [o[1], o[2]])).toEqual(want);
    expect(at('STATUS')[0]).toEqual([0]);
  });
});

describe('softmax on the public vectors (Icarus, random stalls)', () => {
  const file = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
  const cases = file.cases.map((vectorCase, index) => ({ index, vectorCase })).filter((c) => c.vectorCase.block === 'softmax');

  it('one instance per case, its program loaded first: RTL == model == FQ-ViT', async () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const { index, vectorCase } of cases) {
      const r = await softmaxBlock.verifyCase(vectorCase, index, { workDir: work(), stallPercent: 20, seed: index + 1 });
      expect(r, `case ${index}`).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0 });
      expect(r.elements).toBeGreaterThan(0);
    }
  });

  it('one instance per (in_bits, out_bits) for all cases, back to back with a program per case', async () => {
    const r = await softmaxBlock.verifyOneInstance!(cases, { workDir: work(), stallPercent: 25, seed: 3 });
    expect(r.instances).toBe(new Set(cases.map((c) => `${c.vectorCase.in_bits}/${c.vectorCase.out_bits}`)).size);
    expect(r.reports.map((x) => x.index).sort((p, q) => p - q)).toEqual(cases.map((c) => c.index));
    for (const rep of r.reports) {
      expect(rep, `case ${rep.index}`).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0 });
      const c = cases.find((x) => x.index === rep.index)!.vectorCase;
      expect(rep.elements).toBe((c.inputs as number[][]).length * (c.length as number));
    }
  });
});

describe('softmax timing, measured without stalls', () => {
  it('latency 2L + 25 and one element per cycle with rows back to back', async () => {
    for (const [bits, len] of [[4, 197], [8, 197], [4, 16]] as const) {
      const spec = resolveSoftmax(bits, { max_length: len });
      const rows = randomRows(bits, len, 6, 3).map((r) => (r.length === len ? r : Array.from({ length: len }, (_, i) => r[i % r.length]!)));
      const r = await runSoftmax(spec, rowsToBeats(rows), work(), { stallPercent: 0 });
      expect(r.comparison.mismatches).toBe(0);
      const first = r.result.firstInput.s_axis!;
      expect(r.result.beats[0]!.cycle - first).toBe(softmaxLatency(len));
      expect(softmaxLatency(len)).toBe(2 * len + 25);
      // No bubble anywhere in the output: 6 rows of L elements in 6 L consecutive cycles, as the manifest states.
      expect(r.result.beats.at(-1)!.cycle - r.result.beats[0]!.cycle).toBe(6 * len - 1);
      const manifest = JSON.parse(emitSoftmaxRtl(spec).get('manifest.json')!);
      expect(r.result.beats.length / (r.result.beats.at(-1)!.cycle - r.result.beats[0]!.cycle + 1)).toBe(manifest.throughput.elements_per_cycle);
      expect(manifest.latency.cycles).toBe(softmaxLatency(len));
    }
  });

  it('short rows: cycles per row of L = 1, 2, 4, 8 back to back', async () => {
    const spec = resolveSoftmax(4, { max_length: 8 });
    const perRow: Record<number, number> = {};
    for (const len of [1, 2, 4, 8]) {
      const rows = randomRows(4, len, 64, len).map((r) => Array.from({ length: len }, (_, i) => r[i % r.length]!));
      const r = await runSoftmax(spec, rowsToBeats(rows), work(), { stallPercent: 0 });
      expect(r.comparison.mismatches).toBe(0);
      const lasts = r.result.beats.filter((b) => b.last).map((b) => b.cycle);
      perRow[len] = (lasts.at(-1)! - lasts[16]!) / (lasts.length - 17);
    }
    // Rows of any length stream without bubbles, single elements included (16 rows of credit cover the round trip).
    expect(perRow).toEqual({ 1: 1, 2: 2, 4: 4, 8: 8 });
  });
});

describe('softmax_log2_round alone', () => {
  it('equals log_round(round(E / e)) on ties, powers of two, e = 0, E < e and random pairs', async () => {
    const sumWidth = 20;
    const elemWidth = 12;
    const outBits = 3;
    const rnd = mulberry32(5);
    const big = (w: number) => BigInt(Math.floor(rnd() * 2 ** w));
    const pairs: Array<[bigint, bigint]> = [[0n, 0n], [5n, 0n], [(1n << 20n) - 1n, 0n], [0n, 1n], [3n, 7n], [(1n << 20n) - 1n, 1n], [(1n << 20n) - 1n, (1n << 12n) - 1n]];
    for (let j = 1; j < 20; j++) {
      const T = j === 1 ? 2n : j === 2 ? 3n : 3n << BigInt(j - 2);
      for (const e of [2n, 6n, 1n, 3n, 4094n, 4095n]) {
        const tie = (2n * T - 1n) * e;
        for (const d of [-2n, -1n, 0n, 1n, 2n]) {
          const twoE = tie + d;
          if (twoE >= 0n && twoE % 2n === 0n && twoE / 2n < 1n << 20n) pairs.push([twoE / 2n, e]);
        }
      }
    }
    for (let i = 0; i < 2000; i++) pairs.push([big(Math.ceil(rnd() * 20)), big(Math.ceil(rnd() * 12))]);
    const unit = emitLog2RoundUnit({ sumWidth, elemWidth, outBits, spec: { test: true } });
    const dir = work();
    writeFileSync(join(dir, 'softmax_log2_round.v'), unit);
    writeFileSync(join(dir, 'pairs.hex'), pairs.map(([s, e]) => ((s << 12n) | e).toString(16).padStart(8, '0')).join('\n') + '\n');
    writeFileSync(join(dir, 'tb.v'), `\`timescale 1ns / 1ps
module tb;
reg clk = 1'b0;
reg [31:0] pairs [0:${pairs.length - 1}];
reg [19:0] sum = 20'd0;
reg [11:0] elem = 12'd0;
wire [2:0] code;
wire zero;
integer i;
integer fd;
softmax_log2_round dut (.clk(clk), .sum(sum), .elem(elem), .code(code), .zero(zero));
always #5 clk = ~clk;
initial begin
    $readmemh("pairs.hex", pairs);
    fd = $fopen("out.txt", "w");
    for (i = 0; i < ${pairs.length + LOG2_ROUND_LATENCY}; i = i + 1) begin
        if (i < ${pairs.length}) begin sum = pairs[i][31:12]; elem = pairs[i][11:0]; end
        @(posedge clk); #1;
        if (i >= ${LOG2_ROUND_LATENCY - 1}) $fwrite(fd, "%0d %0d\\n", zero, code);
    end
    $fclose(fd);
    $finish;
end
endmodule
`);
    await execa('iverilog', ['-g2005', '-Wall', '-o', 'sim.vvp', 'tb.v', 'softmax_log2_round.v'], { cwd: dir });
    await execa('vvp', ['-n', 'sim.vvp'], { cwd: dir });
    const got = readFileSync(join(dir, 'out.txt'), 'utf8').trim().split('\n').slice(0, pairs.length);
    const want = pairs.map(([s, e]) => {
      const o = log2RoundCode(s, e, outBits);
      return `${Number(o.zero)} ${o.code}`;
    });
    expect(got.length).toBe(pairs.length);
    const bad = got.map((g, i) => (g === want[i] ? '' : `E ${pairs[i]![0]} e ${pairs[i]![1]}: ${g} != ${want[i]}`)).filter(Boolean);
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe('softmax lint', () => {
  it.each([
    ['default, 4 bits', 4, {}],
    ['8 bits, 8-bit codes', 8, { out_bits: 8 }],
    ['L = 1, 1-bit codes', 2, { max_length: 1, out_bits: 1 }],
    ['n = 8', 6, { n: 8, max_length: 7 }],
    ['87-bit row sum', 12, { scale: 2 ** -25, max_length: 40, out_bits: 8 }],
    ['a layer range: a 4021-entry table, z and m both compared', 12, { min_scale: 0.0052, scale: 0.1, max_length: 40 }],
    ['n = 7: m needs no range check', 5, { n: 7, max_length: 9 }],
  ])('%s: clean under Verilator -Wall and Yosys hierarchy -check', async (_name, bits, overrides) => {
    const spec = resolveSoftmax(bits as number, overrides, 'lint');
    const rtl = emitSoftmaxRtl(spec);
    expect(softmaxTop(spec)).toBe(`lint_${SOFTMAX_TOP}`);
    expect(await lintVerilator(rtl, softmaxTop(spec))).toEqual([]);
    expect(await lintYosys(rtl, softmaxTop(spec))).toEqual([]);
  });
});
