// The LayerNorm block's pipelined leaf units against BigInt references in Icarus, for EVERY input at small widths
// (with the clock enable toggling, so the pipeline holds its data when it is low): the signed multiplier p = a·b + c
// and the two-cycle round-half-even shifter (floor + round-up bit).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { shiftRound } from '../generators/common/arith.ts';
import { ensureIcarus } from '../generators/common/sim.ts';
import { boothCorrection, emitPipelinedMultiplier, emitRoundShiftPipelined, pipelinedMultiplierPlan } from '../generators/layernorm/leaves.ts';

const run = promisify(execFile);

/** Simulates a unit under a testbench that prints one result per enabled cycle; returns the printed integers. */
async function simulateUnit(unit: string, tb: string): Promise<bigint[]> {
  await ensureIcarus();
  const dir = mkdtempSync(join(tmpdir(), 'layernorm-leaf-'));
  writeFileSync(join(dir, 'unit.v'), unit);
  writeFileSync(join(dir, 'tb.v'), tb);
  await run('iverilog', ['-g2005', '-Wall', '-o', join(dir, 'sim'), join(dir, 'tb.v'), join(dir, 'unit.v')]);
  const { stdout } = await run('vvp', ['-n', join(dir, 'sim')], { maxBuffer: 64 << 20 });
  return stdout.trim().split('\n').map((s) => BigInt(s.trim()));
}

const signedRange = (w: number) => Array.from({ length: 2 ** w }, (_, i) => BigInt(i) - (1n << BigInt(w - 1)));

/**
 * The testbench applies input i in enabled cycle i (ce low every third cycle: inputs then change to junk, which the
 * unit must ignore) and prints the output after every enabled cycle.
 */
function enabledTb(decls: string, inst: string, count: number, apply: string, junk: string, out: string): string {
  return `\`timescale 1ns / 1ps
module tb;
reg clk = 1'b0;
reg ce = 1'b0;
${decls}
${inst}
integer i, t;
initial begin
    i = 0;
    for (t = 0; i < ${count}; t = t + 1) begin
        ce = (t % 3) != 2;
        if (ce) begin
            ${apply}
        end else begin
            ${junk}
        end
        #1 clk = 1'b1; #1 clk = 1'b0;
        if (ce) begin
            $display("%0d", ${out});
            i = i + 1;
        end
    end
    $finish;
end
endmodule
`;
}

describe('layernorm pipelined leaves', () => {
  it.each([[4, 4, 5, 2, 36], [5, 3, 0, 2, 4], [4, 5, 6, 3, 3]])('multiplier (A %i, B %i, C %i bits, slices of %i, carry ≤ %i) gives a·b + c for every input', async (aw, bw, cw, chunk, maxCarry) => {
    const plan = pipelinedMultiplierPlan(aw, bw, cw, chunk, maxCarry);
    const as = signedRange(aw);
    const bs = signedRange(bw);
    const cs = cw ? signedRange(cw) : [0n];
    const inputs = as.flatMap((a) => bs.flatMap((b) => cs.map((c) => [a, b, c] as const)));
    const count = inputs.length + plan.latency;
    // Input i: a, b, c from the bits of i (the same enumeration order as `inputs`).
    const apply = `a = (i / ${bs.length * cs.length}) - ${2 ** (aw - 1)}; b = ((i / ${cs.length}) % ${bs.length}) - ${2 ** (bw - 1)};${cw ? ` c = (i % ${cs.length}) - ${2 ** (cw - 1)};` : ''}`;
    const tb = enabledTb(
      `reg signed [${aw - 1}:0] a = 0;\nreg signed [${bw - 1}:0] b = 0;\n${cw ? `reg signed [${cw - 1}:0] c = 0;\n` : ''}wire signed [${plan.productWidth - 1}:0] p;`,
      `mul dut (.clk(clk), .ce(ce), .a(a), .b(b),${cw ? ' .c(c),' : ''} .p(p));`,
      count, apply, `a = ~a; b = ~b;${cw ? ' c = ~c;' : ''}`, 'p');
    const out = await simulateUnit(emitPipelinedMultiplier(aw, bw, cw, chunk, maxCarry, 'mul'), tb);
    const got = out.slice(plan.latency - 1, plan.latency - 1 + inputs.length);
    const want = inputs.map(([a, b, c]) => a * b + c);
    expect(got.length).toBe(want.length);
    expect(got.findIndex((v, i) => v !== want[i])).toBe(-1);
  });

  it.each([[5, 5, 7, 36], [6, 4, 9, 5], [4, 7, 10, 4]])('Booth multiplier (A %i, B %i, C %i bits, carry ≤ %i) gives a·b + c − boothCorrection(b) for every a, b', async (aw, bw, cw, maxCarry) => {
    const plan = pipelinedMultiplierPlan(aw, bw, cw, 2, maxCarry, true);
    // Every a and b; c takes the caller's correction plus a value that walks the rest of its range.
    const inputs = signedRange(aw).flatMap((a) => signedRange(bw).map((b, j) => {
      const corr = boothCorrection(b, bw);
      const lo = -(1n << BigInt(cw - 1));
      const c0 = lo + (BigInt(j) * 7n) % ((1n << BigInt(cw)) - corr);
      return [a, b, c0 + corr, c0] as const;
    }));
    const table = inputs.map(([a, b, c], k) => `    table_mem[${k}] = {${aw}'d${BigInt.asUintN(aw, a)}, ${bw}'d${BigInt.asUintN(bw, b)}, ${cw}'d${BigInt.asUintN(cw, c)}};`).join('\n');
    const tb = enabledTb(
      `reg signed [${aw - 1}:0] a = 0;\nreg signed [${bw - 1}:0] b = 0;\nreg signed [${cw - 1}:0] c = 0;\nreg [31:0] j = 0;\nwire signed [${plan.productWidth - 1}:0] p;\nreg [${aw + bw + cw - 1}:0] table_mem [0:${inputs.length - 1}];\ninitial begin\n${table}\nend`,
      'mul dut (.clk(clk), .ce(ce), .a(a), .b(b), .c(c), .p(p));',
      inputs.length + plan.latency, `j = i < ${inputs.length} ? i : 0; {a, b, c} = table_mem[j];`, 'a = ~a; b = ~b; c = ~c;', 'p');
    const out = await simulateUnit(emitPipelinedMultiplier(aw, bw, cw, 2, maxCarry, 'mul', true), tb);
    const got = out.slice(plan.latency - 1, plan.latency - 1 + inputs.length);
    const want = inputs.map(([a, b, , c0]) => a * b + c0);
    expect(got.length).toBe(want.length);
    expect(got.findIndex((v, i) => v !== want[i])).toBe(-1);
  });

  it.each([[8, 4, 8], [9, 5, 6], [6, 2, 6]])('round shifter (IN %i, SHIFT %i, OUT %i bits): floor + round-up = round half to even, every input', async (iw, sw, ow) => {
    const vs = signedRange(iw);
    const shifts = Array.from({ length: 2 ** sw }, (_, s) => s);
    const inputs = vs.flatMap((v) => shifts.map((s) => [v, s] as const)).filter(([v, s]) => {
      const y = shiftRound(v, s, 'half-even');
      const f = v >> BigInt(s);
      // The unit's contract: the floor fits OUT bits (the caller's derivation); the round-up is added by the caller.
      return f >= -(1n << BigInt(ow - 1)) && f < 1n << BigInt(ow - 1) && y - f <= 1n;
    });
    const count = inputs.length + 2;
    const tb = enabledTb(
      `reg signed [${iw - 1}:0] v = 0;\nreg [${sw - 1}:0] s = 0;\nreg [31:0] j = 0;\nwire signed [${ow - 1}:0] f;\nwire ru;\nreg [${iw + sw - 1}:0] table_mem [0:${inputs.length - 1}];\ninitial begin\n${inputs.map(([v, s], k) => `    table_mem[${k}] = {${iw}'d${BigInt.asUintN(iw, v)}, ${sw}'d${s}};`).join('\n')}\nend`,
      'rs dut (.clk(clk), .ce(ce), .value(v), .shift(s), .floor_q(f), .round_up(ru));',
      count, `j = i < ${inputs.length} ? i : 0; {v, s} = table_mem[j];`, 'v = ~v; s = ~s;', `$signed({f[${ow - 1}], f}) + $signed({1'b0, ru})`);
    const out = await simulateUnit(emitRoundShiftPipelined(iw, sw, ow, 'rs'), tb);
    const got = out.slice(1, 1 + inputs.length);
    const want = inputs.map(([v, s]) => shiftRound(v, s, 'half-even'));
    expect(got.length).toBe(want.length);
    expect(got.findIndex((v, i) => v !== want[i])).toBe(-1);
  });
});
