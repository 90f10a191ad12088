// Residual RTL against the golden model in Icarus under random stalls: two layers back to back with a reprogramming,
// several widths, the public encoder cases' residual steps (through verify --one-instance, on Verilator), each
// status_error bit and the recovery after it, throughput, and lint of the generated modules.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { programBeats } from '../generators/common/program.ts';
import { runTiming, simulate } from '../generators/common/sim.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { encoderResidualSteps, expectedBeats, verifyResidualOneInstance, randomTokens, residualHarness, runResidual, syntheticLayer, type ResidualRun } from '../generators/residual/index.ts';
import { residualExact } from '../generators/residual/model.ts';
import { residualProgram } from '../generators/residual/program.ts';
import { RESIDUAL_HEADER_WORDS, resolveResidual } from '../generators/residual/spec.ts';
import { unpackLanes } from '../generators/common/lanes.ts';

const work = () => mkdtempSync(join(tmpdir(), 'residual-'));

describe('residual RTL equals the golden model (Icarus, random stalls)', () => {
  it.each([
    { bits: 8, constBits: 64, maxChannels: 16, stall: 25, sinkStall: 25, seed: 1, datapath: 'pipelined' },
    { bits: 4, constBits: 32, maxChannels: 7, stall: 40, sinkStall: 40, seed: 2, mantissa: 12, datapath: 'pipelined' },
    { bits: 2, constBits: 16, maxChannels: 3, stall: 30, sinkStall: 30, seed: 3, mantissa: 5, datapath: 'pipelined' },
    { bits: 12, constBits: 64, maxChannels: 5, stall: 20, sinkStall: 20, seed: 4, datapath: 'pipelined' },
    // A slow reader (ready one cycle in ten): the output FIFO fills, so the input waits on the in-flight count.
    { bits: 4, constBits: 32, maxChannels: 7, stall: 0, sinkStall: 90, seed: 5, mantissa: 12, datapath: 'pipelined' },
    // Serial lanes (the encoder's): one adder a lane, the constants read from the lane's memory (2, 3 and 5 pieces)
    { bits: 8, constBits: 64, maxChannels: 16, stall: 25, sinkStall: 25, seed: 6, datapath: 'serial' },
    { bits: 2, constBits: 16, maxChannels: 3, stall: 30, sinkStall: 30, seed: 7, mantissa: 5, datapath: 'serial' },
    { bits: 12, constBits: 64, maxChannels: 5, stall: 20, sinkStall: 20, seed: 8, datapath: 'serial' },
    { bits: 4, constBits: 32, maxChannels: 7, stall: 0, sinkStall: 90, seed: 9, mantissa: 12, datapath: 'serial' },
    { bits: 4, constBits: 32, maxChannels: 7, stall: 40, sinkStall: 0, seed: 10, mantissa: 12, datapath: 'serial', lanes: 2 },
  ])('$bits bits, const $constBits, C <= $maxChannels, $datapath: two layers back to back, stall $stall%, sink $sinkStall%', async (c) => {
    const spec = resolveResidual(c.bits, { const_bits: c.constBits, max_channels: c.maxChannels, datapath: c.datapath, lanes: c.lanes ?? 1 }, 'tr');
    const runs: ResidualRun[] = [0, 1, 2].map((k) => {
      const layer = syntheticLayer(c.bits, k === 1 ? Math.max(1, c.maxChannels - 2) : c.maxChannels, c.seed * 10 + k, c.mantissa);
      return { program: residualProgram(spec, layer), beats: randomTokens(c.bits, layer.xAlpha.length, 6, c.seed * 10 + k) };
    });
    const r = await runResidual(spec, runs, work(), { stallPercent: c.stall, sinkStallPercent: c.sinkStall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.statusError).toBe(0n);
  });
});

const encoder = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

describe('residual RTL: every input, and Verilator', () => {
  it.each(['pipelined', 'serial'] as const)('every (x, y, channel) at 3 bits, 16 channels (every alpha pair), %s, equals the exact formula', async (datapath) => {
    const spec = resolveResidual(3, { max_channels: 16, datapath });
    const layer = { ...syntheticLayer(3, 16, 21), xAlpha: Array.from({ length: 16 }, (_, c) => c % 4), outAlpha: Array.from({ length: 16 }, (_, c) => c >> 2) };
    const beats = [];
    for (let x = 0; x < 8; x++) for (let y = 0; y < 8; y++) for (let c = 0; c < 16; c++) beats.push({ x, y, last: c === 15 });
    const r = await runResidual(spec, [{ program: residualProgram(spec, layer), beats }], work(), { stallPercent: 15, seed: 8 });
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.beats.map((b) => Number(b.data))).toEqual(beats.map((b, i) => residualExact(layer, 3, b.x, b.y, i % 16)));
  });

  it.each(['pipelined', 'serial'] as const)('Verilator gives the same beats at the same cycles as Icarus (%s)', async (datapath) => {
    const spec = resolveResidual(8, { max_channels: 8, datapath });
    const runs = [0, 1].map((k) => { const layer = syntheticLayer(8, 8 - 3 * k, 30 + k); return { program: residualProgram(spec, layer), beats: randomTokens(8, layer.xAlpha.length, 4, 30 + k) }; });
    const icarus = await runResidual(spec, runs, work(), { stallPercent: 25, seed: 9 });
    const verilator = await runResidual(spec, runs, work(), { stallPercent: 25, seed: 9, simulator: 'verilator' });
    expect(verilator.comparison.mismatches).toBe(0);
    expect(verilator.result.beats).toEqual(icarus.result.beats);
  }, 120_000);
});

describe('residual RTL: throughput', () => {
  const spec = resolveResidual(6, { const_bits: 64, max_channels: 8 });

  it('takes one element per cycle with no stalls (measured), latency as the manifest says', async () => {
    const layer = syntheticLayer(6, 8, 7);
    const runs = [{ program: residualProgram(spec, layer), beats: randomTokens(6, 8, 20, 7) }];
    const r = await runResidual(spec, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const t = runTiming(r.result);
    // first data beat to last output: latency + elements; the program's words come first
    const dataStart = r.result.firstInput.s_x_axis!;
    expect(r.result.beats.at(-1)!.cycle - dataStart + 1).toBe(spec.derived.latency + 160);
    expect(r.result.beats[0]!.cycle - dataStart).toBe(spec.derived.latency);
    expect(t.cycles).toBeGreaterThan(160);
  });

  it('serial: takes one element every 4 bits + 4 pieces + 14 cycles with no stalls (measured), latency as the manifest says', async () => {
    const serial = resolveResidual(6, { const_bits: 64, max_channels: 8, datapath: 'serial' });
    const layer = syntheticLayer(6, 8, 7);
    const runs = [{ program: residualProgram(serial, layer), beats: randomTokens(6, 8, 3, 7) }];
    const r = await runResidual(serial, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const dataStart = r.result.firstInput.s_x_axis!;
    // Hand-worked: a 64 + 6 + 4 = 74-bit multiplicand is 5 pieces; K's and Y''s pieces take steps 2 to 11, so the
    // multiplications start at 12: 12 + (6 + 2) + 5 + (6 + 5) + 5 + (6 + 4) + (6 + 1) + 1 = 4 * 6 + 4 * 5 + 14.
    expect(serial.derived.elementPeriod).toBe(58);
    expect(r.result.beats[0]!.cycle - dataStart).toBe(serial.derived.latency);
    expect(r.result.beats.at(-1)!.cycle - dataStart).toBe(serial.derived.latency + 23 * serial.derived.elementPeriod);
  });

});

// The program path differs by datapath (the serial one writes each constant word's pieces into its lanes' memories
// before taking the word), so the error and recovery checks run on both.
describe.each(['pipelined', 'serial'] as const)('residual RTL: errors and recovery (%s)', (datapath) => {
  const spec = resolveResidual(6, { const_bits: 64, max_channels: 8, datapath });

  const layer = syntheticLayer(6, 4, 9);
  const good = residualProgram(spec, layer);
  const tokens = randomTokens(6, 4, 3, 9);

  // The program stream's beats, then the tokens once every beat of epoch dataEpoch and below is sent: the outputs must
  // be the last good program's; returns the status bits raised.
  async function afterPrograms(beats: ReturnType<typeof programBeats>, dataEpoch: number, seed: number): Promise<bigint | undefined> {
    const runs = [{ program: good, beats: tokens }];
    const h = residualHarness(spec, runs);
    h.inputs[0]!.beats = beats;
    for (const stream of [h.inputs[1]!, h.inputs[2]!]) stream.beats.forEach((b) => { b.epoch = dataEpoch; });
    const r = await simulate(h, work(), { stallPercent: 20, seed });
    expect(r.beats.map((b) => b.data)).toEqual(expectedBeats(spec, runs).map((b) => b.data));
    return r.statusError;
  }

  it('bit 0: a word out of range (C - 1 >= max_channels) and bit 1: a short program; the next good program recovers', async () => {
    const bad = programBeats(good, 0).map((b, i) => (i === 0 ? { ...b, data: 8n } : b));
    const short = programBeats(good, 2).slice(0, 5).map((b, i) => ({ ...b, last: i === 4 }));
    const fine = programBeats(good, 4);
    expect(await afterPrograms([...bad, ...short, ...fine], 5, 4)).toBe(0b11n);
  });

  // Position in the program and the out-of-range value there (generators/residual/README.md "Program"), one at a time:
  // the bad program alone must raise bit 0, and the good one after it serves the data.
  it.each([
    { word: 'zp_x = 2^bits', at: 1, value: 1n << BigInt(spec.params.bits) },
    { word: "X' = 2^const_bits", at: 4, value: 1n << BigInt(spec.params.const_bits) },
    { word: "O' = 0", at: 6, value: 0n },
    { word: 'an alpha word of 16', at: RESIDUAL_HEADER_WORDS, value: 16n },
  ])('bit 0: a program with $word is refused; the next good program recovers', async ({ at, value }) => {
    const bad = programBeats(good, 1).map((b, i) => (i === at ? { ...b, data: value } : b));
    expect(await afterPrograms([...bad, ...programBeats(good, 2)], 3, 7)).toBe(0b1n);
  });

  it('bit 1: a program one word too long (and one two words too long) is refused; the next good program recovers', async () => {
    const tooLong = (epoch: number, extra: number) => {
      const beats = programBeats(good, epoch);
      const last = beats.at(-1)!;
      return [...beats.map((b) => ({ ...b, last: false })), ...Array.from({ length: extra }, (_, i) => ({ ...last, last: i === extra - 1 }))];
    };
    expect(await afterPrograms([...tooLong(1, 1), ...tooLong(2, 2), ...programBeats(good, 3)], 4, 6)).toBe(0b10n);
  });

  it('bit 2: data before any program is dropped; bit 3: a token without tlast at C - 1; output after recovery is right', async () => {
    const early = randomTokens(6, 4, 1, 11);
    const wrong = tokens.map((b, i) => ({ ...b, last: i === 5 })); // tlast on channel 1 of token 1, none at channel 3 of token 0
    const runs = [{ program: good, beats: early }, { program: good, beats: wrong }, { program: good, beats: tokens }];
    const h = residualHarness(spec, runs);
    // The first run's elements come before any program (epoch 0), its program is never sent.
    h.inputs[0]!.beats = [...programBeats(good, 1), ...programBeats(good, 3)];
    const n0 = early.length;
    for (const s of [h.inputs[1]!, h.inputs[2]!]) s.beats.forEach((b, i) => { b.epoch = i < n0 ? 0 : i < n0 + wrong.length ? 2 : 4; });
    h.output.expectedBeats = wrong.length + tokens.length;
    const r = await simulate(h, work(), { stallPercent: 20, seed: 5 });
    expect(r.statusError).toBe(0b1100n);
    const expected = expectedBeats(spec, runs.slice(1));
    expect(r.beats.map((b) => b.data)).toEqual(expected.map((b) => b.data));
  });
});

describe('residual verify --one-instance', () => {
  it('cases 0, 1 (8 bits) share one instance, case 3 (4 bits) gets its own; every case RTL == model == reference', async () => {
    const cases = [0, 1, 3].map((index) => ({ index, vectorCase: encoder.cases[index]! }));
    const { instances, reports } = await verifyResidualOneInstance(cases, { workDir: work(), stallPercent: 20, seed: 2, simulator: 'verilator' });
    expect(instances).toBe(2);
    expect(reports.map((r) => r.index)).toEqual([0, 1, 3]);
    for (const r of reports) {
      expect(r.elements).toBeGreaterThan(0);
      expect(r.rtl_vs_model).toBe(0);
      expect(r.model_vs_expect).toBe(0);
    }
  }, 300_000);
});

describe('residual lanes: lanes elements a beat, a partial last beat, RTL == model with stalls', () => {
  it.each([
    { lanes: 2, bits: 8, channels: 7, stall: 30, seed: 61 },
    { lanes: 4, bits: 4, channels: 10, stall: 25, seed: 62 },
    { lanes: 8, bits: 6, channels: 13, stall: 40, seed: 63 },
  ])('lanes $lanes, $bits bits, C up to $channels: three layers back to back (C a multiple of lanes or not), stall $stall%', async (c) => {
    const spec = resolveResidual(c.bits, { max_channels: c.channels, lanes: c.lanes }, 'tl');
    const runs: ResidualRun[] = [c.channels, c.lanes, Math.max(1, c.channels - c.lanes - 1)].map((channels, k) => {
      const layer = syntheticLayer(c.bits, channels, c.seed * 10 + k);
      return { program: residualProgram(spec, layer), beats: randomTokens(c.bits, channels, 5, c.seed * 10 + k) };
    });
    const r = await runResidual(spec, runs, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.comparison.first).toBeUndefined();
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.statusError).toBe(0n);
    // Unpacked, the output words are the exact formula element for element (the unused words of a partial beat 0).
    const codes = r.result.beats.flatMap((b) => unpackLanes(b.data, c.lanes, c.bits)).map(Number);
    const exact = runs.flatMap((run) => {
      const n = run.program.integers.channels;
      const words: number[] = [];
      run.beats.forEach((b, i) => {
        const ch = i % n;
        words.push(residualExact(run.program.values.layer as Parameters<typeof residualExact>[0], c.bits, b.x, b.y, ch));
        if (ch === n - 1) while (words.length % c.lanes !== 0) words.push(0);
      });
      return words;
    });
    expect(codes).toEqual(exact);
  });

  it('public encoder case 3 at 8 lanes (resid1 then resid2): RTL == model == the reference', async () => {
    const c = readEncoderCase(encoder.cases[3]!);
    const spec = resolveResidual(c.aBits, { max_channels: c.dim, lanes: 8 });
    const steps = encoderResidualSteps(c);
    const r = await runResidual(spec, steps.map((s) => ({ program: residualProgram(spec, s.layer), beats: s.beats })), work(), { stallPercent: 20, seed: 8 });
    expect(r.comparison.mismatches).toBe(0);
    expect(r.result.beats.flatMap((b) => unpackLanes(b.data, 8, c.aBits)).map(Number)).toEqual(steps.flatMap((s) => s.expect.flat()));
  }, 300_000);

  it('takes lanes elements per cycle with no stalls (measured) at 4 lanes', async () => {
    const spec = resolveResidual(6, { max_channels: 8, lanes: 4 });
    const runs = [{ program: residualProgram(spec, syntheticLayer(6, 8, 27)), beats: randomTokens(6, 8, 40, 27) }];
    const r = await runResidual(spec, runs, work(), { stallPercent: 0 });
    expect(r.comparison.mismatches).toBe(0);
    const start = r.result.firstInput.s_x_axis!;
    const cycles = r.result.beats.at(-1)!.cycle - start + 1 - spec.derived.latency;
    // 320 elements in 80 beats: 4 elements a cycle once the pipeline is full
    expect(r.result.beats.length).toBe(80);
    expect(320 / cycles).toBe(4);
  });
});
