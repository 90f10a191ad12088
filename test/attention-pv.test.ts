// The shift-accumulate unit of attention x V (templates/attention/attention_pv_*.v.hbs), proven by Yosys SAT against a
// plain behavioural reference that multiplies by 2^(F - t) with `*`: the term for ALL inputs (combinational, at a
// small width and at the 8-bit, s_bits 4 width), the accumulator by bounded model checking from reset.
import { describe, expect, it } from 'vitest';
import { proveEquivalent } from '../generators/common/formal.ts';
import { runYosysScript } from '../generators/common/lint.ts';
import { emitPvAcc, emitPvTerm, pvWidths, type PvWidths } from '../generators/attention/leaves.ts';

const termRef = (w: PvWidths) => `module attention_pv_term (
    input  wire signed [${w.valueWidth - 1}:0] value,
    input  wire [${w.codeWidth - 1}:0] code,
    input  wire zero,
    output reg  signed [${w.termWidth - 1}:0] term
);
reg signed [63:0] scaled;
always @* begin
    scaled = value * (64'sd1 <<< (${2 ** w.codeWidth - 1} - code));
    term = zero ? 0 : scaled[${w.termWidth - 1}:0];
end
endmodule
`;

const accRef = (w: PvWidths) => `module attention_pv_acc (
    input  wire clk,
    input  wire rst,
    input  wire enable,
    input  wire in_valid,
    input  wire in_first,
    input  wire in_last,
    input  wire signed [${w.valueWidth - 1}:0] in_value,
    input  wire [${w.codeWidth - 1}:0] in_code,
    input  wire in_zero,
    output reg  out_valid,
    output reg  signed [${w.accWidth - 1}:0] out_acc
);
reg v1 = 0, f1 = 0, l1 = 0, z1 = 0;
reg signed [${w.valueWidth - 1}:0] x1 = 0;
reg [${w.codeWidth - 1}:0] c1 = 0;
initial begin out_valid = 0; out_acc = 0; end
always @(posedge clk) begin
    if (enable) begin
        v1 <= in_valid; f1 <= in_first; l1 <= in_last; x1 <= in_value; c1 <= in_code; z1 <= in_zero;
        if (v1) out_acc <= (f1 ? 0 : out_acc) + (z1 ? 0 : x1 * (64'sd1 <<< (${2 ** w.codeWidth - 1} - c1)));
        out_valid <= v1 && l1;
    end
    if (rst) begin v1 <= 0; out_valid <= 0; end
end
endmodule
`;

function termFiles(w: PvWidths, mutate?: (text: string) => string) {
  const [path, text] = emitPvTerm('', w);
  return new Map([[path, mutate ? mutate(text) : text]]);
}

describe('attention PV shift-accumulate unit (formal)', () => {
  it.each([
    ['small', pvWidths(2, 2, 8)],
    ['8-bit codes, s_bits 4', pvWidths(8, 4, 32)],
  ])('attention_pv_term equals value * 2^(F - t) (0 for an exact zero) for every input, %s', async (_name, w) => {
    const r = await proveEquivalent(termFiles(w), 'attention_pv_term', termRef(w), 'attention_pv_term');
    expect(r.summary).toMatch(/^proven/);
  });

  it('a term shifted by t instead of F - t fails the proof', async () => {
    const w = pvWidths(2, 2, 8);
    const files = termFiles(w, (t) => t.replace('wire [CODE_WIDTH-1:0] left = ~code;', 'wire [CODE_WIDTH-1:0] left = code;'));
    expect([...files.values()][0]).toContain('left = code;');
    const r = await proveEquivalent(files, 'attention_pv_term', termRef(w), 'attention_pv_term');
    expect(r.proven).toBe(false);
  });

  it('attention_pv_acc equals the multiplying accumulator over 8 cycles from reset (every input sequence)', async () => {
    const w = pvWidths(2, 2, 8);
    const files = new Map([emitPvTerm('', w), emitPvAcc('', w)]);
    const r = await proveEquivalent(files, 'attention_pv_acc', accRef(w), 'attention_pv_acc', { depth: 8 });
    expect(r.summary).toMatch(/^proven/);
  });

  it('an accumulator that does not restart at in_first fails the proof', async () => {
    const w = pvWidths(2, 2, 8);
    const [accPath, accText] = emitPvAcc('', w);
    const mutant = accText.replace('(term_first_reg ? {ACC_WIDTH{1\'b0}} : acc_reg)', 'acc_reg');
    expect(mutant).not.toBe(accText);
    const r = await proveEquivalent(new Map([emitPvTerm('', w), [accPath, mutant]]), 'attention_pv_acc', accRef(w), 'attention_pv_acc', { depth: 8 });
    expect(r.proven).toBe(false);
  });
});

describe('attention PV unit: synthesis has no multiplier', () => {
  // Yosys: the generic netlist has no $mul/$macc cell, and iCE40 synthesis with the UltraPlus DSPs allowed (synth_ice40 -dsp) maps no SB_MAC16.
  // The multiplying reference (the behavioural baseline) is the control: it has both, so the check can fail.
  const cells = (log: string, pattern: RegExp) => log.split('\n').filter((l) => pattern.test(l)).map((l) => l.trim());
  async function synth(files: Map<string, string>, top: string) {
    const generic = await runYosysScript(files, `read_verilog ${[...files.keys()].join(' ')}; hierarchy -top ${top}; proc; flatten; opt; wreduce; alumacc; stat`);
    const ice40 = await runYosysScript(files, `read_verilog ${[...files.keys()].join(' ')}; synth_ice40 -dsp -top ${top}; stat`);
    expect(generic.code).toBe(0);
    expect(ice40.code).toBe(0);
    return { mul: cells(generic.log, /^\s*\$(mul|macc\w*)\s+\d+$/), mac: cells(ice40.log, /^\s*SB_MAC16\s+\d+$/) };
  }
  const w = pvWidths(8, 4, 32);

  it('attention_pv_acc (8-bit values, 4-bit codes): no $mul, no $macc, no SB_MAC16', async () => {
    const r = await synth(new Map([emitPvTerm('', w), emitPvAcc('', w)]), 'attention_pv_acc');
    expect(r).toEqual({ mul: [], mac: [] });
  });

  it('a behavioural unit that multiplies by 2^(F - t) with * (from a table, so Yosys cannot turn it into a shift) has them (control)', async () => {
    const table = Array.from({ length: 16 }, (_, t) => `4'd${t}: p = 17'd${2 ** (15 - t)};`).join(' ');
    const control = accRef(w)
      .replace('reg v1 = 0', `reg signed [17:0] p;\nalways @* begin case (c1) ${table} default: p = 0; endcase end\nreg v1 = 0`)
      .replace(/x1 \* \(64'sd1 <<< \(\d+ - c1\)\)/, 'x1 * p');
    expect(control).toContain('x1 * p');
    const r = await synth(new Map([['control.v', control]]), 'attention_pv_acc');
    expect(r.mul.length).toBeGreaterThan(0);
    expect(r.mac.length).toBeGreaterThan(0);
  });
});
