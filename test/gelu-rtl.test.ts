// GELU RTL against the golden model in Icarus under random stalls: layers back to back with a reprogramming, several
// widths, the public encoder cases' GELU step (through verify --one-instance, on Verilator), every accumulator of a
// small layer, each status_error bit and the recovery after it, throughput, and lint of the generated modules.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programBeats } from '../generators/common/program.ts';
import { simulate } from '../generators/common/sim.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { encoderGeluStep, expectedBeats, verifyGeluOneInstance, geluHarness, randomAccs, runGelu, specForCase, syntheticLayer, type GeluRun } from '../generators/gelu/index.ts';
import { GeluFormula } from '../generators/gelu/model.ts';
import { geluProgram } from '../generators/gelu/program.ts';
import { resolveGelu } from '../generators/gelu/spec.ts';
import { unpackLanes } from '../generators/common/lanes.ts';

const work = () => mkdtempSync(join(tmpdir(), 'gelu-'));

describe('GELU RTL equals the golden model (Icarus, random stalls)', () => {
  it.each([
    { bits: 8, wBits: 8, maxK: 64, maxChannels: 16, multBits: 48, stall: 25, sinkStall: 25, seed: 1, datapath: 'pipelined' },
    { bits: 4, wBits: 4, maxK: 48, maxChannels: 7, multBits: 32, stall: 40, sinkStall: 40, seed: 2, datapath: 'pipelined' },
    { bits: 2, wBits: 3, maxK: 1, maxChannels: 3, multBits: 16, stall: 30, sinkStall: 30, seed: 3, datapath: 'pipelined' },
    { bits: 6, wBits: 8, maxK: 200, maxChannels: 5, multBits: 40, stall: 20, sinkStall: 20, seed: 4, datapath: 'pipelined' },
    // A slow reader (ready one cycle in ten): the output FIFO fills, so the input waits on the in-flight count.
    { bits: 4, wBits: 4, maxK: 48, maxChannels: 7, multBits: 32, stall: 0, sinkStall: 90, seed: 5, datapath: 'pipelined' },
    // Serial lanes (the encoder's): one adder a lane, an element every acc_width + 2 bits + 2 cycles
    { bits: 8, wBits: 8, maxK: 64, maxChannels: 16, multBits: 48, stall: 25, sinkStall: 25, seed: 6, datapath: 'serial' },
    { bits: 2, wBits: 3, maxK: 1, maxChannels: 3, multBits: 16, stall: 30, sinkStall: 30, seed: 7, datapath: 'serial' },
    { bits: 6, wBits: 8, maxK: 200, maxChannels: 5, multBits: 40, stall: 20, sinkStall: 20, seed: 8, datapath: 'serial' },
    { bits: 4, wBits: 4, maxK: 48, maxChannels: 7, multBits: 32, stall: 0, sinkStall: 90, seed: 9, datapath: 'serial' },
    { bits: 4, wBits: 4, maxK: 48, maxChannels: 7, multBits: 32, stall: 40, sinkStall: 0, seed: 10, datapath: 'serial', lanes: 2 },
  ])('$bits bits, w $wBits, K <= $maxK, C <= $maxChannels, M $multBits bits, $datapath: three layers back to back, stall $stall%, sink $sinkStall%', async (c) => {
    const spec = resolveGelu(c.bits, { w_bits: c.wBits, max_k: c.maxK, max_channels: c.maxChannels, mult_bits: c.multBits, datapath: c.datapath, lanes: c.lanes ?? 1 }, 'tg');
    const runs: GeluRun[] = [0, 1, 2].map((k) => {
      const layer = syntheticLayer(spec, k === 1 ? Math.max(1, c.maxChannels - 2) : c.maxChannels, c.seed * 10 + k);
      return { program: geluProgram(spec, layer), beats: randomAccs(spec, layer.wScale.length, 6, c.seed * 10 + k) };
    });
    const r = await runGelu(spec, runs, work(), { stallPercent: c.stall, sinkStallPercent: c.sinkStall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.statusError).toBe(0n);
  });

  it.each(['pipelined', 'serial'] as const)('every accumulator of a 2-channel layer (acc 9 bits), %s, equals the exact formula', async (datapath) => {
    const spec = resolveGelu(4, { w_bits: 4, max_k: 2, max_channels: 2, mult_bits: 24, datapath });
    expect(spec.derived.accWidth).toBe(9);
    const layer = syntheticLayer(spec, 2, 5);
    const beats = [];
    for (let acc = -256n; acc < 256n; acc++) for (let n = 0; n < 2; n++) beats.push({ acc, last: n === 1 });
    const runs = [{ program: geluProgram(spec, layer), beats }];
    const r = await runGelu(spec, runs, work(), { stallPercent: 15, seed: 6 });
    expect(r.comparison.mismatches).toBe(0);
    const f = new GeluFormula(layer, 4);
    expect(r.result.beats.map((b) => Number(b.data))).toEqual(beats.map((b, i) => f.code(b.acc, i % 2)));
  });
});

describe('GELU RTL on Verilator', () => {
  it.each(['pipelined', 'serial'] as const)('gives the same beats at the same cycles as Icarus (%s)', async (datapath) => {
    const spec = resolveGelu(8, { max_k: 64, max_channels: 8, datapath });
    const runs = [0, 1].map((k) => { const layer = syntheticLayer(spec, 8 - 3 * k, 40 + k); return { program: geluProgram(spec, layer), beats: randomAccs(spec, layer.wScale.length, 4, 40 + k) }; });
    const icarus = await runGelu(spec, runs, work(), { stallPercent: 25, seed: 9 });
    const verilator = await runGelu(spec, runs, work(), { stallPercent: 25, seed: 9, simulator: 'verilator' });
    expect(verilator.comparison.mismatches).toBe(0);
    expect(verilator.result.beats).toEqual(icarus.result.beats);
  }, 120_000);
});

const encoder = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

describe('GELU RTL: throughput, errors and recovery', () => {
  const spec = resolveGelu(5, { w_bits: 5, max_k: 16, max_channels: 8, mult_bits: 32 });
  const layer = syntheticLayer(spec, 4, 9);
  const good = geluProgram(spec, layer);
  const tokens = randomAccs(spec, 4, 3, 9);

  it('takes one element per cycle with no stalls (measured), latency as the manifest says', async () => {
    const runs = [{ program: geluProgram(spec, syntheticLayer(spec, 8, 7)), beats: randomAccs(spec, 8, 20, 7) }];
    const r = await runGelu(spec, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const start = r.result.firstInput.s_axis!;
    expect(r.result.beats[0]!.cycle - start).toBe(spec.derived.latency);
    expect(r.result.beats.at(-1)!.cycle - start + 1).toBe(spec.derived.latency + 160);
  });

  it('serial: takes one element every acc_width + 2 bits + 2 cycles with no stalls (measured), latency as the manifest says', async () => {
    const serial = resolveGelu(5, { w_bits: 5, max_k: 16, max_channels: 8, mult_bits: 32, datapath: 'serial' });
    const runs = [{ program: geluProgram(serial, syntheticLayer(serial, 8, 7)), beats: randomAccs(serial, 8, 3, 7) }];
    const r = await runGelu(serial, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const start = r.result.firstInput.s_axis!;
    expect(serial.derived.elementPeriod).toBe(serial.derived.accWidth + 2 * 5 + 2);
    expect(r.result.beats[0]!.cycle - start).toBe(serial.derived.latency);
    expect(r.result.beats.at(-1)!.cycle - start).toBe(serial.derived.latency + 23 * serial.derived.elementPeriod);
  });

  it('bit 0: a word out of range (M = 0) and bit 1: a short program; the next good program recovers', async () => {
    const mWord = 2 + 2 * (2 ** 5 - 1);
    const bad = programBeats(good, 0).map((b, i) => (i === mWord ? { ...b, data: 0n } : b));
    const short = programBeats(good, 2).slice(0, 5).map((b, i) => ({ ...b, last: i === 4 }));
    const runs = [{ program: good, beats: tokens }];
    const h = geluHarness(spec, runs);
    h.inputs[0]!.beats = [...bad, ...short, ...programBeats(good, 4)];
    h.inputs[1]!.beats.forEach((b) => { b.epoch = 5; });
    const r = await simulate(h, work(), { stallPercent: 20, seed: 4 });
    expect(r.statusError).toBe(0b11n);
    expect(r.beats.map((b) => b.data)).toEqual(expectedBeats(spec, runs).map((b) => b.data));
  });

  it('bit 2: data before any program is dropped; bit 3: a token without tlast at C - 1; output after recovery is right', async () => {
    const early = randomAccs(spec, 4, 1, 11);
    const wrong = tokens.map((b, i) => ({ ...b, last: i === 5 }));
    const runs = [{ program: good, beats: early }, { program: good, beats: wrong }, { program: good, beats: tokens }];
    const h = geluHarness(spec, runs);
    h.inputs[0]!.beats = [...programBeats(good, 1), ...programBeats(good, 3)];
    const n0 = early.length;
    h.inputs[1]!.beats.forEach((b, i) => { b.epoch = i < n0 ? 0 : i < n0 + wrong.length ? 2 : 4; });
    h.output.expectedBeats = wrong.length + tokens.length;
    const r = await simulate(h, work(), { stallPercent: 20, seed: 5 });
    expect(r.statusError).toBe(0b1100n);
    expect(r.beats.map((b) => b.data)).toEqual(expectedBeats(spec, runs.slice(1)).map((b) => b.data));
  });
});

describe('GELU verify --one-instance', () => {
  it('cases 0, 1 (8/8 bits) share one instance, case 3 (4/4 bits) gets its own; every case RTL == model == reference', async () => {
    const cases = [0, 1, 3].map((index) => ({ index, vectorCase: encoder.cases[index]! }));
    const { instances, reports } = await verifyGeluOneInstance(cases, { workDir: work(), stallPercent: 20, seed: 2, simulator: 'verilator' });
    expect(instances).toBe(2);
    expect(reports.map((r) => r.index)).toEqual([0, 1, 3]);
    for (const r of reports) {
      expect(r.elements).toBeGreaterThan(0);
      expect(r.rtl_vs_model).toBe(0);
      expect(r.model_vs_expect).toBe(0);
    }
  }, 300_000);
});

describe('GELU lanes: lanes elements a beat, a partial last beat, RTL == model with stalls', () => {
  it.each([
    { lanes: 2, bits: 4, channels: 7, stall: 30, seed: 51 },
    { lanes: 4, bits: 6, channels: 10, stall: 25, seed: 52 },
    { lanes: 8, bits: 3, channels: 13, stall: 40, seed: 53 },
  ])('lanes $lanes, $bits bits, C up to $channels: three layers back to back (C a multiple of lanes or not), stall $stall%', async (c) => {
    const spec = resolveGelu(c.bits, { max_k: 24, max_channels: c.channels, lanes: c.lanes }, 'tl');
    const runs: GeluRun[] = [c.channels, c.lanes, Math.max(1, c.channels - c.lanes - 1)].map((channels, k) => {
      const layer = syntheticLayer(spec, channels, c.seed * 10 + k);
      return { program: geluProgram(spec, layer), beats: randomAccs(spec, channels, 5, c.seed * 10 + k) };
    });
    const r = await runGelu(spec, runs, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.statusError).toBe(0n);
    // The output words, unpacked, are the model's codes element for element (the unused words of a partial beat 0).
    const codes = r.result.beats.flatMap((b) => unpackLanes(b.data, c.lanes, c.bits));
    const model = runs.flatMap((run) => expectedBeats(spec, [run])).flatMap((b) => unpackLanes(b.data, c.lanes, c.bits));
    expect(codes).toEqual(model);
  });

  it('public encoder case 3 at 4 lanes (192 channels of 4-bit fc1_act): RTL == model == the reference', async () => {
    const c = readEncoderCase(encoder.cases[3]!);
    const base = specForCase(c);
    const spec = resolveGelu(c.aBits, { ...base.params, lanes: 4 });
    const step = encoderGeluStep(c);
    const r = await runGelu(spec, [{ program: geluProgram(spec, step.layer), beats: step.beats }], work(), { stallPercent: 20, seed: 7 });
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.beats.flatMap((b) => unpackLanes(b.data, 4, c.aBits)).map(Number)).toEqual(step.expect.flat());
  }, 300_000);

  it('takes lanes elements per cycle with no stalls (measured) at 4 lanes', async () => {
    const spec = resolveGelu(4, { max_k: 16, max_channels: 8, lanes: 4, mult_bits: 24 });
    const runs = [{ program: geluProgram(spec, syntheticLayer(spec, 8, 17)), beats: randomAccs(spec, 8, 40, 17) }];
    const r = await runGelu(spec, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const start = r.result.firstInput.s_axis!;
    const cycles = r.result.beats.at(-1)!.cycle - start + 1 - spec.derived.latency;
    // 320 elements in 80 beats: 4 elements a cycle once the pipeline is full
    expect(r.result.beats.length).toBe(80);
    expect(320 / cycles).toBe(4);
  });
});
