// The simulation harness itself: the second simulator (Verilator) against Icarus, the mid-stream reset, and the
// failure diagnostics (first differing element, waveform). Exercised on the hand-written skid buffer, whose golden
// model is the identity: every beat comes out once, in order.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { libraryFiles } from '../generators/common/library.ts';
import { compareBeats, emitTestbench, simulate, simulateAndCompare, type Beat, type SimHarness } from '../generators/common/sim.ts';

const WIDTH = 12;

function harness(beats: Beat[], expectedBeats = beats.length): SimHarness {
  return {
    dut: 'axis_skid_buffer',
    params: [{ name: 'DATA_WIDTH', value: WIDTH }],
    rtl: libraryFiles(['axis_skid_buffer']),
    inputs: [{ prefix: 's_axis', width: WIDTH, beats }],
    output: { prefix: 'm_axis', width: WIDTH, expectedBeats },
    maxCycles: beats.length + 50,
  };
}

// Packets of 8 beats; data is a hash of the index so that a dropped or repeated beat cannot go unnoticed.
const beats: Beat[] = Array.from({ length: 240 }, (_, i) => ({ data: BigInt((i * 2654435761) % 4096), last: i % 8 === 7 }));
const work = () => mkdtempSync(join(tmpdir(), 'sim-harness-'));

describe('second simulator', () => {
  it('Verilator and Icarus give the same beats at the same cycles under stalls, both equal to the model', async () => {
    const options = { stallPercent: 35, seed: 11 };
    const icarus = await simulate(harness(beats), work(), { ...options, simulator: 'icarus' });
    const verilator = await simulate(harness(beats), work(), { ...options, simulator: 'verilator' });
    expect(compareBeats(beats, icarus.beats).mismatches).toBe(0);
    expect(compareBeats(beats, verilator.beats).mismatches).toBe(0);
    expect(verilator.beats).toEqual(icarus.beats);
    expect(verilator.doneCycle).toBe(icarus.doneCycle);
    expect(verilator.firstInput).toEqual(icarus.firstInput);
    expect(icarus.inputsConsumed).toEqual({ s_axis: true });
    expect(icarus.timedOut || verilator.timedOut).toBe(false);
  });
});

describe('mid-stream reset', () => {
  const restart = 96; // start of packet 12
  const midReset = { cycle: 120, restartAt: { s_axis: restart } };

  it.each(['icarus', 'verilator'] as const)('on %s: output after the reset equals the stream replayed from the restart beat', async (simulator) => {
    const replayed = beats.slice(restart);
    const r = await simulate(harness(beats, replayed.length), work(), { stallPercent: 25, seed: 3, simulator, midReset });
    // The reset really came mid-stream: some beats were out, not all.
    expect(r.beatsBeforeReset.length).toBeGreaterThan(0);
    expect(r.beatsBeforeReset.length).toBeLessThan(beats.length);
    expect(compareBeats(beats.slice(0, r.beatsBeforeReset.length), r.beatsBeforeReset).mismatches).toBe(0);
    // Nothing lost or duplicated after it.
    expect(compareBeats(replayed, r.beats).mismatches).toBe(0);
    expect(r.beats[0]!.cycle).toBeGreaterThanOrEqual(midReset.cycle + 3);
    expect(r.timedOut).toBe(false);
  });

  it('rejects a restart index outside the stream and a reset inside the initial one', () => {
    expect(() => emitTestbench(harness(beats), { midReset: { cycle: 100, restartAt: { s_axis: beats.length } } })).toThrow(/restartAt\.s_axis/);
    expect(() => emitTestbench(harness(beats), { midReset: { cycle: 100, restartAt: { nope: 0 } } })).toThrow(/names no input stream: nope/);
    expect(() => emitTestbench(harness(beats), { midReset: { cycle: 2 } })).toThrow(/midReset\.cycle/);
  });
});

describe('failure diagnostics', () => {
  it('names the first differing element with its inputs, the expected and actual values, and writes a waveform', async () => {
    const wrong = beats.map((b, i) => (i === 37 ? { ...b, data: b.data ^ 1n } : b));
    const dir = work();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const run = await simulateAndCompare(harness(beats), dir, { stallPercent: 20, seed: 2 }, wrong, (i) => `beat ${i} (input 0x${beats[i]!.data.toString(16)})`);
      expect(run.comparison.mismatches).toBe(1);
      expect(run.comparison.firstIndex).toBe(37);
      const message = `beat 37 (input 0x${beats[37]!.data.toString(16)}): expected data 0x${wrong[37]!.data.toString(16)} last 0, RTL gave 0x${beats[37]!.data.toString(16)} last 0 at cycle ${run.result.beats[37]!.cycle}`;
      expect(run.comparison.first).toBe(message);
      expect(run.vcd).toBe(join(dir, 'wave.vcd'));
      expect(statSync(run.vcd!).size).toBeGreaterThan(1000);
      expect(readFileSync(join(dir, 'mismatch.txt'), 'utf8')).toContain(message);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(`waveform: ${run.vcd}`);
    } finally {
      stderr.mockRestore();
    }
  });

  it('writes no waveform when the run matches', async () => {
    const dir = work();
    const run = await simulateAndCompare(harness(beats), dir, { stallPercent: 20, seed: 2 }, beats);
    expect(run.comparison.mismatches).toBe(0);
    expect(run.vcd).toBeUndefined();
    expect(existsSync(join(dir, 'wave.vcd'))).toBe(false);
  });

  it('reports a missing beat at its index, and a pure count difference last', () => {
    const dropped = compareBeats(beats, [...beats.slice(0, 10), ...beats.slice(11)]);
    expect(dropped.firstIndex).toBe(10);
    const short = compareBeats(beats, beats.slice(0, 200));
    expect(short).toEqual({ mismatches: 40, first: `expected ${beats.length} beats, RTL produced 200`, firstIndex: 200 });
  });
});

describe('stream epochs', () => {
  // A two-input merge that forwards whichever input has a beat (a first): without epochs the two streams interleave
  // as their stalls fall; with epochs the testbench must present them in epoch order.
  const merge = new Map([['merge2.v', `\`resetall
\`timescale 1ns / 1ps
\`default_nettype none
module merge2 (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] s_a_axis_tdata,
    input  wire       s_a_axis_tlast,
    input  wire       s_a_axis_tvalid,
    output wire       s_a_axis_tready,
    input  wire [7:0] s_b_axis_tdata,
    input  wire       s_b_axis_tlast,
    input  wire       s_b_axis_tvalid,
    output wire       s_b_axis_tready,
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tlast,
    output wire       m_axis_tvalid,
    input  wire       m_axis_tready
);
/* verilator lint_off UNUSEDSIGNAL */
wire unused = clk ^ rst;
/* verilator lint_on UNUSEDSIGNAL */
assign m_axis_tdata = s_a_axis_tvalid ? s_a_axis_tdata : s_b_axis_tdata;
assign m_axis_tlast = s_a_axis_tvalid ? s_a_axis_tlast : s_b_axis_tlast;
assign m_axis_tvalid = s_a_axis_tvalid || s_b_axis_tvalid;
assign s_a_axis_tready = m_axis_tready;
assign s_b_axis_tready = m_axis_tready && !s_a_axis_tvalid;
endmodule
\`resetall
`]]);
  // Hand-worked order: a's epoch-0 beats, then b's epoch-1 beats, then a's epoch-2 beats, whatever the stalls.
  const a: Beat[] = [1, 2, 3, 7, 8].map((d, i) => ({ data: BigInt(d), last: false, epoch: i < 3 ? 0 : 2 }));
  const b: Beat[] = [4, 5, 6].map((d) => ({ data: BigInt(d), last: false, epoch: 1 }));
  const mergeHarness = (ordered: boolean): SimHarness => ({
    dut: 'merge2', params: [], rtl: merge,
    inputs: [
      { prefix: 's_a_axis', width: 8, beats: ordered ? a : a.map(({ epoch: _e, ...x }) => x) },
      { prefix: 's_b_axis', width: 8, beats: ordered ? b : b.map(({ epoch: _e, ...x }) => x) },
    ],
    output: { prefix: 'm_axis', width: 8, expectedBeats: 8 },
    maxCycles: 100,
  });

  it('present the streams in epoch order under random stalls (and interleave them without epochs)', async () => {
    for (const seed of [1, 2, 3]) {
      const ordered = await simulate(mergeHarness(true), work(), { stallPercent: 40, seed });
      expect(ordered.beats.map((x) => Number(x.data))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
    const free = await simulate(mergeHarness(false), work(), { stallPercent: 0 });
    expect(free.beats.map((x) => Number(x.data))).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('time limit', () => {
  it('stops a run that never delivers its expected beats, on both simulators, at the cycle limit', async () => {
    // Two beats in, four expected: the sink never finishes, so the testbench must stop at its limit.
    const h = harness(beats.slice(0, 2), 4);
    for (const simulator of ['icarus', 'verilator'] as const) {
      const r = await simulate(h, work(), { simulator });
      expect(r.timedOut, simulator).toBe(true);
      expect(r.doneCycle, simulator).toBe(h.maxCycles + 1000);
    }
  });
});
