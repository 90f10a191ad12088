// LIS softmax with lanes (2, 4, 8 elements a beat) against the golden model in Icarus under random stalls: random
// sweeps (rows of every length, rows cut at max_length, max_length a multiple of lanes or not); the public vectors one
// instance per case and all on one instance (two layers back to back with a reprogramming); layers reprogrammed
// between rows; status_error bit 3 on a wrong tkeep, the output then being the model's on the beats as the block's rule
// reads them, and exact rows after it; throughput and latency measured without stalls against the manifest; the
// beat-packing helpers; lint; lanes 1 unchanged (no tkeep, three status bits); synthesis rows carrying lanes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { lintVerilator, lintYosys } from '../generators/common/lint.ts';
import { defaultStimulus, packInput, programPhase, randomRows, rowsToBeats, runSoftmax, softmaxBlock, verifySoftmaxCase, verifySoftmaxOneInstance, type SoftmaxPhase } from '../generators/softmax/index.ts';
import { packLanes, readLaneBeats } from '../generators/softmax/lanes.ts';
import { emitSoftmaxRtl, softmaxLatency, softmaxStatusWidth, softmaxTop } from '../generators/softmax/rtl.ts';
import { resolveSoftmax, softmaxLayer } from '../generators/softmax/spec.ts';
import { plainRow } from '../generators/synth/summary.ts';
import { designFromGenerated } from '../scripts/synth.ts';
import type { Generated } from '../scripts/gen.ts';

const work = () => mkdtempSync(join(tmpdir(), 'softmax-lanes-'));

describe('softmax lanes: spec', () => {
  it('lanes is 1, 2, 4 or 8, at most max_length; widths and buffers count beats', () => {
    expect(() => resolveSoftmax(4, { lanes: 3 })).toThrow(SpecError);
    expect(() => resolveSoftmax(4, { lanes: 16 })).toThrow(/softmax\.lanes/);
    expect(() => resolveSoftmax(4, { lanes: 4, max_length: 3 })).toThrow(/at most max_length/);
    const spec = resolveSoftmax(8, { lanes: 4 });
    expect(spec.derived).toMatchObject({ laneBits: 2, maxBeats: 50, lengthWidth: 6 });
    expect(softmaxStatusWidth(spec)).toBe(4);
  });

  it('lanes 1 is the block of before: no tkeep, three status bits, the same RTL as a spec without lanes', () => {
    const one = resolveSoftmax(4, { lanes: 1 });
    const rtl = emitSoftmaxRtl(one);
    const top = rtl.get(`${softmaxTop(one)}.v`)!;
    expect(top).not.toMatch(/tkeep/);
    expect(top).toMatch(/output wire \[2:0\]\s+status_error/);
    expect(softmaxStatusWidth(one)).toBe(3);
    const none = emitSoftmaxRtl(resolveSoftmax(4, {}));
    for (const [p, t] of rtl) expect(t, p).toBe(none.get(p));
    const four = emitSoftmaxRtl(resolveSoftmax(4, { lanes: 4 })).get(`${softmaxTop(one)}.v`)!;
    expect(four).toMatch(/input\s+wire \[3:0\]\s+s_axis_tkeep/);
    expect(four).toMatch(/output wire \[3:0\]\s+m_axis_tkeep/);
  });
});

describe('softmax lanes: beat packing', () => {
  it('packs rows from lane 0 with tkeep on the last beat, and reads them back as sent', () => {
    const spec = resolveSoftmax(4, { lanes: 4, max_length: 6 });
    // Rows of 5 and 2, and a row of 8 elements the block cuts at 6 (its beat 1 holds lanes 0..1, no tlast).
    const elements = rowsToBeats([[1, 2, 3, 4, 5], [6, 7], [1, 2, 3, 4, 5, 6, 7, 8]]);
    const beats = packInput(spec, elements);
    const word = (keep: number, qs: number[]) => (BigInt(keep) << 16n) | qs.reduce((a, q, i) => a | (BigInt(q) << BigInt(4 * i)), 0n);
    expect(beats).toEqual([
      { data: word(0xf, [1, 2, 3, 4]), last: false },
      { data: word(0x1, [5]), last: true },
      { data: word(0x3, [6, 7]), last: true },
      { data: word(0xf, [1, 2, 3, 4]), last: false },
      { data: word(0x3, [5, 6]), last: false },
      { data: word(0x3, [7, 8]), last: true },
    ]);
    expect(readLaneBeats(spec, beats).map((e) => e.q)).toEqual(elements.map((e) => e.q));
    expect(packLanes([{ data: 5n, last: true }], 1, 4)).toEqual([{ data: 5n, last: true }]);
  });

  it('reads a wrong tkeep by the rule: full before the last beat, up to the highest kept lane on it, cut at max_length', () => {
    const spec = resolveSoftmax(4, { lanes: 4, max_length: 6 });
    const beat = (keep: number, last: boolean) => ({ data: (BigInt(keep) << 16n) | 0x4321n, last });
    const longer = resolveSoftmax(4, { lanes: 4, max_length: 12 });
    expect(readLaneBeats(longer, [beat(0x1, false), beat(0x5, true)]).map((e) => e.q)).toEqual([1, 2, 3, 4, 1, 2, 3]);
    expect(readLaneBeats(spec, [beat(0x0, true)]).map((e) => e.q)).toEqual([1]);
    // Beat 1 reaches max_length = 6: lanes 0..1 at most, whatever tkeep says; the row ends there.
    expect(readLaneBeats(spec, [beat(0xf, false), beat(0xf, false), beat(0x1, true)]).map((e) => [e.q, e.last])).toEqual([
      [1, false], [2, false], [3, false], [4, false], [1, false], [2, true], [1, true],
    ]);
  });
});

interface LaneCase { bits: number; lanes: number; maxLen: number; out?: number; scale?: number; stall: number; seed: number }

const SWEEP: LaneCase[] = [
  { bits: 4, lanes: 2, maxLen: 197, stall: 20, seed: 1 },
  { bits: 8, lanes: 4, maxLen: 197, stall: 30, seed: 2 },
  { bits: 8, lanes: 8, maxLen: 197, out: 8, stall: 25, seed: 3 },
  { bits: 5, lanes: 4, maxLen: 16, stall: 50, seed: 4 },
  { bits: 6, lanes: 8, maxLen: 13, stall: 20, seed: 5 },
  { bits: 3, lanes: 2, maxLen: 2, out: 3, stall: 40, seed: 6 },
  { bits: 8, lanes: 4, maxLen: 197, scale: 0.005, stall: 25, seed: 7 },
  { bits: 12, lanes: 2, maxLen: 31, scale: 0.01, stall: 20, seed: 8 },
];

describe('softmax lanes: RTL equals the golden model (Icarus, random stalls)', () => {
  it.each(SWEEP)('in $bits bits, lanes $lanes, L <= $maxLen, stall $stall%', async (c) => {
    const spec = resolveSoftmax(c.bits, { lanes: c.lanes, max_length: c.maxLen, ...(c.out ? { out_bits: c.out } : {}), ...(c.scale ? { scale: c.scale } : {}) });
    const rows = randomRows(c.bits, c.maxLen, Math.max(16, Math.ceil(1600 / c.maxLen)), c.seed);
    // defaultStimulus ends with a row longer than max_length: the block cuts it there.
    const beats = [...rowsToBeats(rows), ...defaultStimulus(spec, c.seed)];
    const r = await runSoftmax(spec, beats, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.expected.length).toBe(beats.length);
    expect(r.result.statusError).toBe(0n);
  });

  it.each([2, 4, 8])('lanes %i: two layers back to back, reprogrammed between rows', async (lanes) => {
    const spec = resolveSoftmax(8, { min_scale: 0.02, scale: 0.0231, lanes, max_length: 40 });
    const a = softmaxLayer(spec, 0.05);
    const b = softmaxLayer(spec, 0.02);
    const rows = (seed: number) => rowsToBeats(randomRows(8, 40, 12, seed));
    const phases = [programPhase(spec, a, rows(1)), programPhase(spec, b, rows(2)), { layer: b, beats: rows(3) }, programPhase(spec, a, rows(4))];
    const r = await runSoftmax(spec, phases, work(), { stallPercent: 30, seed: lanes });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.statusError).toBe(0n);
  });
});

describe('softmax lanes: the public vectors (Icarus, random stalls)', () => {
  const file = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
  const cases = file.cases.map((vectorCase, index) => ({ index, vectorCase })).filter((c) => c.vectorCase.block === 'softmax');

  it.each([2, 4, 8])('lanes %i: one instance per (in_bits, out_bits), every case back to back with its program (verifyOneInstance)', async (lanes) => {
    expect(cases.length).toBeGreaterThan(1);
    const r = await verifySoftmaxOneInstance(cases, { workDir: work(), stallPercent: 25, seed: lanes }, lanes);
    expect(r.reports.map((x) => x.index).sort((p, q) => p - q)).toEqual(cases.map((c) => c.index));
    for (const rep of r.reports) {
      expect(rep, `case ${rep.index}`).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0 });
      const c = cases.find((x) => x.index === rep.index)!.vectorCase;
      expect(rep.elements).toBe((c.inputs as number[][]).length * (c.length as number));
    }
  });

  it('lanes 4: one instance per case', async () => {
    for (const { index, vectorCase } of cases) {
      const r = await verifySoftmaxCase(vectorCase, index, { workDir: work(), stallPercent: 20, seed: index + 1 }, 4);
      expect(r, `case ${index}`).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0 });
    }
  });
});

describe('softmax lanes: status_error bit 3 on a wrong tkeep, and recovery', () => {
  const spec = resolveSoftmax(4, { lanes: 4, max_length: 10 });
  const layer = spec.layer;
  const good = (seed: number) => rowsToBeats(randomRows(4, 10, 8, seed));
  const beat = (keep: number, qs: number[], last: boolean) => ({ data: (BigInt(keep) << 16n) | qs.reduce((a, q, i) => a | (BigInt(q) << BigInt(4 * i)), 0n), last });
  const cases: Array<[string, Array<{ data: bigint; last: boolean }>]> = [
    ['a hole in the last beat\'s tkeep', [beat(0xf, [3, 9, 1, 15], false), beat(0x5, [2, 7, 4, 0], true)]],
    ['a partial tkeep before the last beat', [beat(0x3, [3, 9, 1, 15], false), beat(0x1, [2, 7, 4, 0], true)]],
    ['tkeep 0 on a last beat', [beat(0x0, [8, 9, 1, 15], true)]],
    ['lanes past max_length on the beat that reaches it', [beat(0xf, [1, 2, 3, 4], false), beat(0xf, [5, 6, 7, 8], false), beat(0xf, [9, 10, 11, 12], true)]],
  ];
  it.each(cases)('%s: bit 3 rises; the row is read by the rule; the rows after it are exact', async (_name, raw) => {
    const phases: SoftmaxPhase[] = [programPhase(spec, layer, good(1)), { layer, beats: [], raw }, { layer, beats: good(2) }];
    const r = await runSoftmax(spec, phases, work(), { stallPercent: 30, seed: 7 });
    expect(r.result.statusError).toBe(0b1000n);
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
  });

  it('and none rises on right tkeeps, rows cut at max_length included', async () => {
    const long = Array.from({ length: 23 }, (_, i) => ({ q: i % 16, last: i === 22 }));
    const r = await runSoftmax(spec, [programPhase(spec, layer, [...good(3), ...long, ...good(4)])], work(), { stallPercent: 30, seed: 8 });
    expect(r.result.statusError).toBe(0n);
    expect(r.comparison.mismatches).toBe(0);
  });
});

describe('softmax lanes: timing, measured without stalls', () => {
  it.each([[4, 2], [4, 4], [8, 4], [4, 8]] as const)('%i bits, lanes %i: latency, and lanes elements per cycle with rows back to back', async (bits, lanes) => {
    // Rows whose length is a multiple of lanes (the manifest's condition), 192 of the 197 elements allowed.
    const len = 192;
    const spec = resolveSoftmax(bits, { lanes });
    const rows = randomRows(bits, len, 6, 3).map((r) => Array.from({ length: len }, (_, i) => r[i % r.length]!));
    const r = await runSoftmax(spec, rowsToBeats(rows), work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const first = r.result.firstInput.s_axis!;
    expect(r.result.beats[0]!.cycle - first).toBe(softmaxLatency(len, lanes));
    const manifest = JSON.parse(emitSoftmaxRtl(spec).get('manifest.json')!);
    // No bubble: 6 rows of L elements in 6 L / lanes consecutive cycles, lanes elements each, as the manifest states.
    const cycles = r.result.beats.at(-1)!.cycle - r.result.beats[0]!.cycle + 1;
    expect(cycles).toBe((6 * len) / lanes);
    expect(r.expected.length / cycles).toBe(manifest.throughput.elements_per_cycle);
    expect(manifest.throughput.elements_per_cycle).toBe(lanes);
    expect(manifest.latency.cycles).toBe(softmaxLatency(spec.params.max_length, lanes));
    expect(softmaxLatency(len, lanes)).toBe(2 * Math.ceil(len / lanes) + 27 + Math.log2(lanes));
    // The program is the same at every lanes value; every lane has its own copy of the table in passes B and C.
    expect(manifest.program).toEqual(JSON.parse(emitSoftmaxRtl(resolveSoftmax(bits, {})).get('manifest.json')!).program);
    expect(manifest.derived.exp_table_copies).toBe(2 * lanes);
  });

  it('short rows: a row of 1 to lanes elements every cycle', async () => {
    const spec = resolveSoftmax(4, { lanes: 4, max_length: 8 });
    for (const len of [1, 3, 4]) {
      const rows = randomRows(4, len, 64, len).map((r) => Array.from({ length: len }, (_, i) => r[i % r.length]!));
      const r = await runSoftmax(spec, rowsToBeats(rows), work(), { stallPercent: 0 });
      expect(r.comparison.mismatches).toBe(0);
      const lasts = r.result.beats.filter((b) => b.last).map((b) => b.cycle);
      expect((lasts.at(-1)! - lasts[16]!) / (lasts.length - 17)).toBe(1);
    }
  });
});

describe('softmax lanes: lint', () => {
  it.each([
    ['4 bits, lanes 2', 4, { lanes: 2 }],
    ['8 bits, lanes 4', 8, { lanes: 4 }],
    ['4 bits, lanes 8, L = 13', 4, { lanes: 8, max_length: 13 }],
    ['2 bits, lanes 2, L = 2, 1-bit codes', 2, { lanes: 2, max_length: 2, out_bits: 1 }],
  ])('%s: clean under Verilator -Wall and Yosys hierarchy -check', async (_name, bits, overrides) => {
    const spec = resolveSoftmax(bits as number, overrides, 'lint');
    const rtl = emitSoftmaxRtl(spec);
    expect(await lintVerilator(rtl, softmaxTop(spec))).toEqual([]);
    expect(await lintYosys(rtl, softmaxTop(spec))).toEqual([]);
  });
});

describe('softmax lanes: synthesis rows', () => {
  it('the design read from the manifest carries lanes, and a report row keeps it (after the documented fields)', () => {
    const spec = resolveSoftmax(4, { lanes: 4 });
    const files = new Map([...softmaxBlock.generate(spec)].map(([p, t]) => [`softmax/${p}`, t]));
    const design = designFromGenerated({ files } as unknown as Generated, 'softmax');
    expect(design.lanes).toBe(4);
    // The test adapter is not part of the design (the manifest lists the block's own files).
    expect(Object.keys(design.files).some((f) => f.includes('tb_keep'))).toBe(false);
    const row = { block: 'softmax', device: 'hx8k' as const, lc: 1, lut: 1, ff: 1, carry: 0, bram: 0, dsp: 0, fmax_mhz: 100 };
    expect(Object.keys(plainRow({ ...row, lanes: 4 }))).toEqual([...Object.keys(row), 'lanes']);
    expect(plainRow(row)).not.toHaveProperty('lanes');
  });
});
