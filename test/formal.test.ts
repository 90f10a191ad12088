// Formal equivalence helper (generators/common/formal.ts), on a round-half-even shifter written two ways: a
// hardware-style one (guard/sticky/lsb) and a plain behavioural one (floor quotient, remainder compared with one
// half). A round-half-up shifter and a pipeline with the wrong latency must fail the proof, with a counterexample.
import { describe, expect, it } from 'vitest';
import type { FileSet } from '../generators/common/files.ts';
import { proveEquivalent } from '../generators/common/formal.ts';

const wrap = (name: string, body: string) => `\`resetall\n\`timescale 1ns / 1ps\n\`default_nettype none\n\nmodule ${name} #(\n    // Input width\n    parameter X_WIDTH = 8,\n    // Right shift\n    parameter SHIFT = 3\n) (\n${body}\nendmodule\n\n\`resetall\n`;
const ports = '    input  wire                      clk,\n    input  wire signed [X_WIDTH-1:0] x,\n    output wire signed [X_WIDTH-SHIFT:0] y\n);\n';

// Hardware style: floor by dropping bits, then add one when the dropped part is over a half, or exactly a half
// with an odd quotient. The output is one bit wider than the quotient: rounding up the largest value carries.
const hardware = wrap('rhe_shift', `${ports}
localparam [SHIFT-1:0] STICKY_MASK = (1 << (SHIFT - 1)) - 1;
wire signed [X_WIDTH-SHIFT-1:0] quotient = x[X_WIDTH-1:SHIFT];
wire [SHIFT-1:0] dropped = x[SHIFT-1:0];
wire guard = dropped[SHIFT-1];
wire sticky = (dropped & STICKY_MASK) != 0;
wire round_up = guard && (sticky || quotient[0]);
assign y = {quotient[X_WIDTH-SHIFT-1], quotient} + {{(X_WIDTH-SHIFT){1'b0}}, round_up};
/* verilator lint_off UNUSEDSIGNAL */
wire unused_clk = clk;
/* verilator lint_on UNUSEDSIGNAL */`);

// Behavioural: wide signed arithmetic, floor quotient and remainder, compare with one half.
const behavioural = (name: string, halfUp: boolean) => wrap(name, `${ports}
localparam signed [47:0] HALF = 48'sd1 <<< (SHIFT - 1);
reg signed [47:0] wide, quotient, remainder, result;
always @* begin
    wide = x;
    quotient = wide >>> SHIFT;
    remainder = wide - (quotient <<< SHIFT);
    if (${halfUp ? 'remainder >= HALF' : 'remainder > HALF || (remainder == HALF && quotient[0])'}) result = quotient + 1;
    else result = quotient;
end
assign y = result[X_WIDTH-SHIFT:0];
wire unused_clk = clk;`);

// The same units behind output registers: one (right) or two (wrong latency).
const registered = (name: string, inner: string, stages: number) => `${inner}
module ${name} #(parameter X_WIDTH = 8, parameter SHIFT = 3) (
    input  wire clk,
    input  wire signed [X_WIDTH-1:0] x,
    output wire signed [X_WIDTH-SHIFT:0] y
);
wire signed [X_WIDTH-SHIFT:0] y_comb;
reg signed [X_WIDTH-SHIFT:0] stage_reg [0:${stages - 1}];
integer i;
${inner.match(/module (\w+)/)![1]} #(.X_WIDTH(X_WIDTH), .SHIFT(SHIFT)) unit_inst (.clk(clk), .x(x), .y(y_comb));
always @(posedge clk) begin
    stage_reg[0] <= y_comb;
    for (i = 1; i < ${stages}; i = i + 1) stage_reg[i] <= stage_reg[i - 1];
end
assign y = stage_reg[${stages - 1}];
endmodule
`;

const impl: FileSet = new Map([['rhe_shift.v', hardware]]);

describe('proveEquivalent', () => {
  it.each([[6, 1], [6, 2], [7, 3], [12, 5]])('proves the hardware round-half-even shifter at X_WIDTH=%i SHIFT=%i', async (xw, shift) => {
    const r = await proveEquivalent(impl, 'rhe_shift', behavioural('rhe_shift', false), 'rhe_shift', { params: { X_WIDTH: xw, SHIFT: shift } });
    expect(r.summary).toMatch(/^proven/);
    expect(r.proven).toBe(true);
  });

  it('fails on a round-half-up shifter and names a tie as the counterexample', async () => {
    const r = await proveEquivalent(impl, 'rhe_shift', behavioural('rhe_half_up', true), 'rhe_half_up', { params: { X_WIDTH: 6, SHIFT: 2 } });
    expect(r.proven).toBe(false);
    const x = Number(/counterexample: x=(-?\d+)/.exec(r.summary)?.[1]);
    // A tie (remainder exactly one half) with an even quotient: only there do the two modes differ.
    expect(((x % 4) + 4) % 4).toBe(2);
    expect(Math.floor(x / 4) % 2).toBe(0);
  });

  it('proves registered units over cycles from reset, and catches a latency mismatch', async () => {
    const params = { X_WIDTH: 6, SHIFT: 2 };
    const one = new Map([['rhe_shift_reg.v', registered('rhe_shift_reg', hardware, 1)]]);
    const two = new Map([['rhe_shift_reg.v', registered('rhe_shift_reg', hardware, 2)]]);
    const ref = registered('rhe_shift_reg', behavioural('rhe_shift', false), 1);
    const ok = await proveEquivalent(one, 'rhe_shift_reg', ref, 'rhe_shift_reg', { params, depth: 4 });
    expect(ok.summary).toMatch(/^proven/);
    const late = await proveEquivalent(two, 'rhe_shift_reg', ref, 'rhe_shift_reg', { params, depth: 4 });
    expect(late.proven).toBe(false);
    expect(late.summary).toMatch(/counterexample: x@1=\d+/);
  });

  it('finds a difference on a single input value (the proof is not vacuous)', async () => {
    const plus = new Map([['m.v', "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = x + 4'd1;\nendmodule\n"]]);
    const odd = "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = (x == 4'd6) ? 4'd0 : x + 4'd1;\nendmodule\n";
    const r = await proveEquivalent(plus, 'm', odd, 'm');
    expect(r.proven).toBe(false);
    expect(r.summary).toMatch(/counterexample: x=6$/);
  });

  it('counts an x from the implementation as a difference', async () => {
    const xy = new Map([['m.v', "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = (x == 4'd9) ? 4'bxxxx : x;\nendmodule\n"]]);
    const r = await proveEquivalent(xy, 'm', "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = x;\nendmodule\n", 'm');
    expect(r.summary).toMatch(/counterexample: x=9$/);
  });

  it('reports ports that do not match as not proven', async () => {
    const other = wrap('rhe_other', '    input wire clk,\n    input wire signed [X_WIDTH-1:0] x,\n    output wire signed [X_WIDTH-1:0] z\n);\nassign z = x;\nwire unused_clk = clk;');
    const r = await proveEquivalent(impl, 'rhe_shift', other, 'rhe_other');
    expect(r.proven).toBe(false);
    expect(r.summary).toMatch(/ERROR/);
  });
});

describe('proveEquivalent with an input contract', () => {
  // Correct only for x < 12: a unit whose caller never sends more (the contract is the reference's assume()).
  const narrow = new Map([['m.v', "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = (x >= 4'd12) ? 4'd0 : x;\nendmodule\n"]]);
  const ref = (contract: boolean) => `module m (input wire [3:0] x, output reg [3:0] y);\nalways @* begin\n${contract ? "    assume(x < 4'd12);\n" : ''}    y = x;\nend\nendmodule\n`;

  it('proves the unit within its contract and finds the input outside it without', async () => {
    expect((await proveEquivalent(narrow, 'm', ref(true), 'm')).summary).toMatch(/^proven/);
    expect((await proveEquivalent(narrow, 'm', ref(false), 'm')).summary).toMatch(/counterexample: x=1[2-5]$/);
  });
});

describe('proveEquivalent refuses a vacuous proof', () => {
  it('reports assumptions no input satisfies as not proven', async () => {
    const any = new Map([['m.v', "module m (input wire [3:0] x, output wire [3:0] y);\nassign y = ~x;\nendmodule\n"]]);
    const r = await proveEquivalent(any, 'm', "module m (input wire [3:0] x, output reg [3:0] y);\nalways @* begin\n    assume(x > 4'd9 && x < 4'd3);\n    y = x;\nend\nendmodule\n", 'm');
    expect(r.proven).toBe(false);
    expect(r.summary).toMatch(/no input satisfies the reference's assumptions/);
  });
});
