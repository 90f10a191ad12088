/**
 * Leaf arithmetic units of the LayerNorm block, one job each, parameterized so that a test (and the formal flow) can
 * generate them for small widths: the bit-serial integer square root, the bit-serial divider (the reciprocal of the
 * root), the round-half-even variable right shifter, and the per-element M/N unit.
 */
import { headerComment } from '../common/verilog.ts';

const PRELUDE = '`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n';
const POSTLUDE = '\n`resetall\n';

function module(what: string, spec: unknown, body: string): string {
  return `${PRELUDE}\n${headerComment(what, spec)}\n${body}${POSTLUDE}`;
}

/** Width of a counter that counts 0 .. n − 1. */
function counterWidth(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
}

/**
 * floor(sqrt(radicand)), exact, by the restoring digit recurrence: one root bit per cycle, ROOT_WIDTH cycles from
 * `start` to the `done` pulse. The partial remainder never exceeds twice the partial root, so ROOT_WIDTH + 2 bits hold
 * it. `start` while busy restarts.
 */
export function emitIsqrt(rootWidth: number, name = 'ptf_layernorm_isqrt'): string {
  const cw = counterWidth(rootWidth);
  return module(`${name}: bit-serial integer square root, floor(sqrt(radicand)), exact`, { rootWidth }, `module ${name} #(
    // Width of the root; the radicand has twice as many bits
    parameter ROOT_WIDTH = ${rootWidth}
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    start,
    input  wire [2*ROOT_WIDTH-1:0] radicand,
    output wire                    done,
    output wire [ROOT_WIDTH-1:0]   root
);

// Cycle counter width (counts ROOT_WIDTH steps)
localparam COUNT_WIDTH = ${cw};
// Count of the last step
localparam [COUNT_WIDTH-1:0] LAST_STEP = ${cw}'d${rootWidth - 1};

reg [2*ROOT_WIDTH-1:0] rad_reg = {2*ROOT_WIDTH{1'b0}};
// Before the last step the remainder is below 2^ROOT_WIDTH (it never exceeds twice the partial root); the
// remainder after the last step is not needed.
reg [ROOT_WIDTH-1:0]   rem_reg = {ROOT_WIDTH{1'b0}};
reg [ROOT_WIDTH-1:0]   root_reg = {ROOT_WIDTH{1'b0}};
reg [COUNT_WIDTH-1:0]  count_reg = {COUNT_WIDTH{1'b0}};
reg                    busy_reg = 1'b0;
reg                    done_reg = 1'b0;

// Bring down the next two radicand bits; try root' = 2·root + 1, i.e. subtract 4·root + 1.
wire [ROOT_WIDTH+1:0] rem_shift = {rem_reg, rad_reg[2*ROOT_WIDTH-1:2*ROOT_WIDTH-2]};
wire [ROOT_WIDTH+1:0] trial = {root_reg, 2'b01};
wire                  fits = rem_shift >= trial;
/* verilator lint_off UNUSEDSIGNAL */
wire [ROOT_WIDTH+1:0] rem_next = fits ? rem_shift - trial : rem_shift;
/* verilator lint_on UNUSEDSIGNAL */

always @(posedge clk) begin
    done_reg <= 1'b0;
    if (start) begin
        rad_reg <= radicand;
        rem_reg <= {ROOT_WIDTH{1'b0}};
        root_reg <= {ROOT_WIDTH{1'b0}};
        count_reg <= {COUNT_WIDTH{1'b0}};
        busy_reg <= 1'b1;
    end else if (busy_reg) begin
        rad_reg <= {rad_reg[2*ROOT_WIDTH-3:0], 2'b00};
        rem_reg <= rem_next[ROOT_WIDTH-1:0];
        root_reg <= {root_reg[ROOT_WIDTH-2:0], fits};
        count_reg <= count_reg + 1'b1;
        if (count_reg == LAST_STEP) begin
            busy_reg <= 1'b0;
            done_reg <= 1'b1;
        end
    end
    if (rst) begin
        busy_reg <= 1'b0;
        done_reg <= 1'b0;
    end
end

assign done = done_reg;
assign root = root_reg;

endmodule
`);
}

/**
 * quotient = floor(numerator / divisor), exact, by restoring division: one quotient bit per cycle, QUOT_WIDTH cycles
 * from \`start\` to the \`done\` pulse; \`inexact\` says the remainder is not zero (for the floor of a negative quotient).
 * Requires numerator < divisor · 2^QUOT_WIDTH (the caller's widths guarantee it), so the quotient has QUOT_WIDTH bits.
 */
export function emitDivider(numWidth: number, denWidth: number, quotWidth: number, name = 'ptf_layernorm_divider'): string {
  if (numWidth - quotWidth > denWidth || quotWidth < 2) throw new Error(`${name}: needs NUM_WIDTH − QUOT_WIDTH ≤ DEN_WIDTH and QUOT_WIDTH ≥ 2`);
  const cw = counterWidth(quotWidth);
  const highWidth = numWidth - quotWidth;
  const preload = highWidth === denWidth
    ? `{1'b0, numerator[NUM_WIDTH-1:QUOT_WIDTH]}`
    : `{{DEN_WIDTH-NUM_WIDTH+QUOT_WIDTH+1{1'b0}}, numerator[NUM_WIDTH-1:QUOT_WIDTH]}`;
  return module(`${name}: bit-serial restoring divider, floor(numerator / divisor), exact`, { numWidth, denWidth, quotWidth }, `module ${name} #(
    // Width of the numerator
    parameter NUM_WIDTH = ${numWidth},
    // Width of the divisor
    parameter DEN_WIDTH = ${denWidth},
    // Quotient bits (numerator < divisor * 2^QUOT_WIDTH)
    parameter QUOT_WIDTH = ${quotWidth}
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  start,
    input  wire [NUM_WIDTH-1:0]  numerator,
    input  wire [DEN_WIDTH-1:0]  divisor,
    output wire                  done,
    output wire [QUOT_WIDTH-1:0] quotient,
    output wire                  inexact
);

// Cycle counter width (counts QUOT_WIDTH steps)
localparam COUNT_WIDTH = ${cw};
// Count of the last step
localparam [COUNT_WIDTH-1:0] LAST_STEP = ${cw}'d${quotWidth - 1};

// The remainder stays below the divisor; one more bit holds it after the shift.
reg [DEN_WIDTH:0]      rem_reg = {DEN_WIDTH+1{1'b0}};
reg [DEN_WIDTH-1:0]    den_reg = {DEN_WIDTH{1'b0}};
// Low numerator bits leave at the top while quotient bits enter at the bottom.
reg [QUOT_WIDTH-1:0]   quot_reg = {QUOT_WIDTH{1'b0}};
reg [COUNT_WIDTH-1:0]  count_reg = {COUNT_WIDTH{1'b0}};
reg                    busy_reg = 1'b0;
reg                    done_reg = 1'b0;

wire [DEN_WIDTH:0] rem_shift = {rem_reg[DEN_WIDTH-1:0], quot_reg[QUOT_WIDTH-1]};
wire               fits = rem_shift >= {1'b0, den_reg};

always @(posedge clk) begin
    done_reg <= 1'b0;
    if (start) begin
        rem_reg <= ${preload};
        den_reg <= divisor;
        quot_reg <= numerator[QUOT_WIDTH-1:0];
        count_reg <= {COUNT_WIDTH{1'b0}};
        busy_reg <= 1'b1;
    end else if (busy_reg) begin
        rem_reg <= fits ? rem_shift - {1'b0, den_reg} : rem_shift;
        quot_reg <= {quot_reg[QUOT_WIDTH-2:0], fits};
        count_reg <= count_reg + 1'b1;
        if (count_reg == LAST_STEP) begin
            busy_reg <= 1'b0;
            done_reg <= 1'b1;
        end
    end
    if (rst) begin
        busy_reg <= 1'b0;
        done_reg <= 1'b0;
    end
end

assign done = done_reg;
assign quotient = quot_reg;
assign inexact = rem_reg != {DEN_WIDTH+1{1'b0}};

endmodule
`);
}

/**
 * rounded = round(value / 2^shift), half to even (torch.round), exact; combinational. Every shift the caller makes
 * (up to shiftMax) is below IN_WIDTH, so the guard bit always exists; OUT_WIDTH holds every result the caller can produce (derived in spec.ts).
 */
export function emitRoundShift(inWidth: number, shiftWidth: number, outWidth: number, shiftMax = 2 ** shiftWidth - 1, name = 'ptf_layernorm_round_shift'): string {
  if (shiftMax >= inWidth) throw new Error(`${name}: every shift (up to ${shiftMax}) must be below IN_WIDTH`);
  if (outWidth > inWidth) throw new Error(`${name}: OUT_WIDTH must not exceed IN_WIDTH`);
  const slice = outWidth === inWidth ? 'sum' : `sum[OUT_WIDTH-1:0]`;
  return module(`${name}: round(value / 2^shift), half to even`, { inWidth, shiftWidth, outWidth, shiftMax }, `module ${name} #(
    // Width of the signed input
    parameter IN_WIDTH = ${inWidth},
    // Width of the shift amount (the caller never shifts by IN_WIDTH or more)
    parameter SHIFT_WIDTH = ${shiftWidth},
    // Width of the signed result
    parameter OUT_WIDTH = ${outWidth}
) (
    input  wire signed [IN_WIDTH-1:0]  value,
    input  wire        [SHIFT_WIDTH-1:0] shift,
    output wire signed [OUT_WIDTH-1:0] rounded
);

wire signed [IN_WIDTH-1:0] floor_q = value >>> shift;
// The dropped bits, and the weight of one half in their position (zero when nothing is dropped).
wire [IN_WIDTH-1:0] dropped = value & ~({IN_WIDTH{1'b1}} << shift);
wire [IN_WIDTH-1:0] half = {{IN_WIDTH-1{1'b0}}, 1'b1} << shift >> 1;
wire round_up = (dropped > half) || (shift != {SHIFT_WIDTH{1'b0}} && dropped == half && floor_q[0]);
// With shift ≥ 1 the floor is at most 2^(IN_WIDTH-2) in magnitude, so adding one never overflows; the bits above
// OUT_WIDTH are copies of the sign by the caller's width derivation.
/* verilator lint_off UNUSEDSIGNAL */
wire signed [IN_WIDTH-1:0] sum = floor_q + $signed({{IN_WIDTH-1{1'b0}}, round_up});
/* verilator lint_on UNUSEDSIGNAL */

assign rounded = ${slice};

endmodule
`);
}

/**
 * FQ-ViT's M and N of one element from the top bits of PA = RA·|ga| (combinational): δ = the top bit,
 * N_u = nA − k − δ, M_u = the 8 bits below the leading one (floor), then the clamps of get_MN: N_u < 0 → (255, 0),
 * N_u > 31 → (M_u >> (N_u − 31), 31); gamma = 0 → (0, 31); a constant token → (0, 0).
 */
export function emitMn(naWidth: number, kWidth: number, name = 'ptf_layernorm_mn'): string {
  return module(`${name}: FQ-ViT's 8-bit multiplier M and shift N per element`, { naWidth, kWidth }, `module ${name} #(
    // Width of the signed per-channel exponent nA (holds nA − k − 1 and 32)
    parameter NA_WIDTH = ${naWidth},
    // Width of the token's normalizing shift k
    parameter K_WIDTH = ${kWidth}
) (
    // The top 9 bits of PA; its leading one is bit 8 or bit 7
    input  wire [8:0]                 pa_top,
    input  wire signed [NA_WIDTH-1:0] na,
    input  wire [K_WIDTH-1:0]         k,
    input  wire                       gamma_zero,
    input  wire                       const_token,
    output reg  [7:0]                 m,
    output reg  [4:0]                 n
);

wire delta = pa_top[8];
wire signed [NA_WIDTH:0] n_u = {na[NA_WIDTH-1], na} - $signed({{NA_WIDTH+1-K_WIDTH{1'b0}}, k}) - $signed({{NA_WIDTH{1'b0}}, delta});
wire [7:0] m_u = delta ? pa_top[8:1] : pa_top[7:0];
wire signed [NA_WIDTH:0] excess = n_u - 31;

always @* begin
    if (const_token) begin
        m = 8'd0;
        n = 5'd0;
    end else if (gamma_zero) begin
        m = 8'd0;
        n = 5'd31;
    end else if (n_u < 0) begin
        m = 8'd255;
        n = 5'd0;
    end else if (n_u > 31) begin
        m = excess >= 8 ? 8'd0 : m_u >> excess[2:0];
        n = 5'd31;
    end else begin
        m = m_u;
        n = n_u[4:0];
    end
end

endmodule
`);
}
