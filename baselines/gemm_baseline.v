`resetall
`timescale 1ns / 1ps
`default_nettype none

// Hand-written behavioural baseline for the benchmark (not generated): the GEMM's function written the way a user
// would by hand, one multiply-accumulate per cycle, the requantizer in one combinational step with `*` and `/`, no
// pipelining. One output code per dot product: out = clamp(round_half_even((acc * mult + offset) / 2^shift), 0,
// 2^OUT_BITS - 1) with acc = sum over the K run of (a - zero_point) * w.
module gemm_baseline #(
    // Width of the unsigned activation codes and the zero point
    parameter A_BITS = 4,
    // Width of the signed weights
    parameter W_BITS = 4,
    // Width of the unsigned output codes
    parameter OUT_BITS = 4,
    // Width of the signed accumulator
    parameter ACC_WIDTH = 24,
    // Width of the unsigned multiplier
    parameter MULT_WIDTH = 24,
    // Width of the shift
    parameter SHIFT_WIDTH = 6,
    // Width of the signed offset
    parameter OFFSET_WIDTH = 48,
    // Width of the signed acc * mult + offset
    parameter SUM_WIDTH = 50,
    // Width of one input beat
    parameter BEAT_WIDTH = OFFSET_WIDTH + SHIFT_WIDTH + MULT_WIDTH + A_BITS + W_BITS + A_BITS
) (
    input  wire                           clk,
    input  wire                           rst,

    // {offset, shift, mult, zero_point, w, a}: the channel's constants travel with every beat (read at tlast);
    // tlast ends the dot product
    input  wire [BEAT_WIDTH-1:0]          s_axis_tdata,
    input  wire                           s_axis_tvalid,
    input  wire                           s_axis_tlast,
    output wire                           s_axis_tready,

    output wire [OUT_BITS-1:0]            m_axis_tdata,
    output wire                           m_axis_tvalid,
    output wire                           m_axis_tlast,
    input  wire                           m_axis_tready
);

localparam [SUM_WIDTH:0] OUT_MAX = (1 << OUT_BITS) - 1;

reg signed [ACC_WIDTH-1:0] acc_reg = 0;
reg [OUT_BITS-1:0]         out_reg = 0;
reg                        out_valid_reg = 1'b0;

reg signed [ACC_WIDTH-1:0] acc_next;
reg signed [SUM_WIDTH:0]   sum;
reg signed [SUM_WIDTH:0]   divisor;
reg signed [SUM_WIDTH:0]   quotient;
reg signed [SUM_WIDTH:0]   remainder;

localparam ZP_LSB = W_BITS + A_BITS;
localparam MULT_LSB = ZP_LSB + A_BITS;
localparam SHIFT_LSB = MULT_LSB + MULT_WIDTH;
localparam OFFSET_LSB = SHIFT_LSB + SHIFT_WIDTH;

wire [A_BITS-1:0]              zero_point = s_axis_tdata[MULT_LSB-1:ZP_LSB];
wire [MULT_WIDTH-1:0]          mult = s_axis_tdata[SHIFT_LSB-1:MULT_LSB];
wire [SHIFT_WIDTH-1:0]         shift = s_axis_tdata[OFFSET_LSB-1:SHIFT_LSB];
wire signed [OFFSET_WIDTH-1:0] offset = s_axis_tdata[OFFSET_LSB+OFFSET_WIDTH-1:OFFSET_LSB];
wire signed [A_BITS:0]         centered = $signed({1'b0, s_axis_tdata[A_BITS-1:0]}) - $signed({1'b0, zero_point});
wire signed [W_BITS-1:0]       weight = s_axis_tdata[ZP_LSB-1:A_BITS];

assign s_axis_tready = !out_valid_reg || m_axis_tready;
assign m_axis_tdata = out_reg;
assign m_axis_tvalid = out_valid_reg;
assign m_axis_tlast = 1'b1;

always @(*) begin
    acc_next = acc_reg + centered * weight;
    sum = $signed({{(SUM_WIDTH + 1 - ACC_WIDTH){acc_next[ACC_WIDTH-1]}}, acc_next}) * $signed({{(SUM_WIDTH + 1 - MULT_WIDTH){1'b0}}, mult})
        + $signed({{(SUM_WIDTH + 1 - OFFSET_WIDTH){offset[OFFSET_WIDTH-1]}}, offset});
    divisor = $signed({{SUM_WIDTH{1'b0}}, 1'b1}) << shift;
    quotient = sum / divisor;
    remainder = sum - quotient * divisor;
    // Division truncates towards zero: step down to the floor, then round half to even.
    if (remainder < 0) begin
        quotient = quotient - 1;
        remainder = remainder + divisor;
    end
    if (2 * remainder > divisor || (2 * remainder == divisor && quotient[0])) quotient = quotient + 1;
end

always @(posedge clk) begin
    if (m_axis_tready) out_valid_reg <= 1'b0;
    if (s_axis_tvalid && s_axis_tready) begin
        acc_reg <= s_axis_tlast ? 0 : acc_next;
        if (s_axis_tlast) begin
            out_reg <= quotient < 0 ? 0 : quotient > $signed(OUT_MAX) ? OUT_MAX[OUT_BITS-1:0] : quotient[OUT_BITS-1:0];
            out_valid_reg <= 1'b1;
        end
    end
    if (rst) begin
        acc_reg <= 0;
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
