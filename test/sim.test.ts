import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryFiles } from '../generators/common/library.ts';
import { compareBeats, simulate, type Beat, type SimHarness } from '../generators/common/sim.ts';

// The shared stream testbench, exercised on the skid buffer: every beat must come out once, in order, under stalls.
function harness(beats: Beat[]): SimHarness {
  return {
    dut: 'axis_skid_buffer',
    params: [{ name: 'DATA_WIDTH', value: 12 }],
    rtl: libraryFiles(['axis_skid_buffer']),
    inputs: [{ prefix: 's_axis', width: 12, beats }],
    output: { prefix: 'm_axis', width: 12, expectedBeats: beats.length },
    maxCycles: beats.length + 50,
  };
}

const beats: Beat[] = Array.from({ length: 200 }, (_, i) => ({ data: BigInt((i * 2654435761) % 4096), last: i % 7 === 6 }));

describe('stream testbench on the skid buffer', () => {
  it('passes every beat at one beat per cycle without stalls', async () => {
    const r = await simulate(harness(beats), mkdtempSync(join(tmpdir(), 'sim-')));
    expect(r.timedOut).toBe(false);
    expect(compareBeats(beats, r.beats)).toEqual({ mismatches: 0, first: undefined });
    expect(r.beats.at(-1)!.cycle - r.beats[0]!.cycle).toBe(beats.length - 1);
  });

  it.each([10, 50])('passes every beat with %i%% random stalls on both sides', async (stallPercent) => {
    const r = await simulate(harness(beats), mkdtempSync(join(tmpdir(), 'sim-')), { stallPercent, seed: 7 });
    expect(compareBeats(beats, r.beats).mismatches).toBe(0);
    expect(r.beats.at(-1)!.cycle - r.beats[0]!.cycle).toBeGreaterThan(beats.length);
  });

  it('reports a dropped beat as a mismatch', () => {
    expect(compareBeats(beats, beats.slice(1)).mismatches).toBeGreaterThan(0);
  });
});
