`resetall
`timescale 1ns / 1ps
`default_nettype none

// Hand-written behavioural baseline for the benchmark (not generated): the FQ-ViT attention head written the way a
// user would by hand, one head at a time and one step at a time, no pipelining. A packet of N tokens (q | k | v,
// 3 * HEADS * HEAD_DIM codes a token, tlast on the last code) is stored; then for every head and row i:
// S_ij = sum_d (q_id - zp_s)(k_jd - zp_s), one MAC per step; the score code requantized with `*` and a rounding shift;
// the row through the LIS softmax baseline (softmax_baseline.v); O_id = sum_j (v_jd - zp_s) * 2^(F - t_ij) with `*`
// (j left out where the probability is exactly 0); the output code requantized with `*`. One layer, its constants in
// a ROM file (zp, score M, S, B, output M, S, B). Every memory is read in one cycle and used in the next.
// verilator lint_off WIDTH
// (written as a user would: the arithmetic relies on Verilog's extension of operands to the expression's width)
module attention_baseline #(
    // Width of the unsigned qkv_out, attn_score and attn_out codes
    parameter BITS = 4,
    // Width of the softmax's log2 code t; F = 2^S_BITS - 1 fraction bits in O
    parameter S_BITS = 4,
    parameter HEADS = 1,
    parameter HEAD_DIM = 16,
    parameter MAX_TOKENS = 32,
    // Width of a token index (counts to MAX_TOKENS)
    parameter J_WIDTH = 6,
    // Signed widths of S and O
    parameter S_ACC_WIDTH = 16,
    parameter O_ACC_WIDTH = 32,
    // Width of the requantizers' M, and of a constant word in the ROM
    parameter FRAC_BITS = 28,
    parameter CONST_WIDTH = 68,
    // The softmax baseline's widths and LIS constants
    parameter SM_INDEX_WIDTH = 7,
    parameter SM_ELEM_WIDTH = 40,
    parameter SM_SUM_WIDTH = 48,
    parameter signed [31:0] X0 = -1,
    parameter signed [31:0] B = 1,
    parameter signed [31:0] C = 1,
    parameter N = 30,
    parameter CONST_FILE = "attention_baseline_constants.hex"
) (
    input  wire             clk,
    input  wire             rst,

    input  wire [BITS-1:0]  s_axis_tdata,
    input  wire             s_axis_tvalid,
    input  wire             s_axis_tlast,
    output wire             s_axis_tready,

    output wire [BITS-1:0]  m_axis_tdata,
    output wire             m_axis_tvalid,
    output wire             m_axis_tlast,
    input  wire             m_axis_tready
);

localparam DIM = HEADS * HEAD_DIM;
localparam F = (1 << S_BITS) - 1;
localparam SUM_WIDTH = CONST_WIDTH + O_ACC_WIDTH + 2;
localparam [BITS-1:0] CODE_MAX = {BITS{1'b1}};

localparam [2:0] ST_LOAD = 3'd0;
localparam [2:0] ST_QK = 3'd1;
localparam [2:0] ST_FEED = 3'd2;
localparam [2:0] ST_PROB = 3'd3;
localparam [2:0] ST_PV = 3'd4;
localparam [2:0] ST_OUT = 3'd5;

// The layer: zp, score M, S, B, output M, S, B (B in two's complement of CONST_WIDTH)
reg [CONST_WIDTH-1:0] constants [0:6];
initial $readmemh(CONST_FILE, constants);
wire [BITS-1:0] zp = constants[0];
wire signed [BITS:0] zp_s = {1'b0, zp};
wire [FRAC_BITS-1:0] s_mult = constants[1];
wire [7:0] s_shift = constants[2];
wire signed [CONST_WIDTH-1:0] s_offset = constants[3];
wire [FRAC_BITS-1:0] o_mult = constants[4];
wire [7:0] o_shift = constants[5];
wire signed [CONST_WIDTH-1:0] o_offset = constants[6];

reg [BITS-1:0] q_mem [0:MAX_TOKENS*DIM-1];
reg [BITS-1:0] k_mem [0:MAX_TOKENS*DIM-1];
reg [BITS-1:0] v_mem [0:MAX_TOKENS*DIM-1];
reg [BITS-1:0] score_mem [0:MAX_TOKENS-1];
reg [S_BITS:0] prob_mem [0:MAX_TOKENS-1];

reg [2:0] state_reg = ST_LOAD;
reg [1:0] part_reg = 2'd0;
reg [31:0] col_reg = 0;
reg [J_WIDTH-1:0] count_reg = 0;  // tokens of the packet
reg [31:0] h_reg = 0;
reg [J_WIDTH-1:0] i_reg = 0;
reg [J_WIDTH-1:0] j_reg = 0;
reg [31:0] d_reg = 0;
reg read_done_reg = 1'b0;
reg [BITS-1:0] a_read_reg = 0;
reg [BITS-1:0] b_read_reg = 0;
reg [S_BITS:0] p_read_reg = 0;
reg signed [S_ACC_WIDTH-1:0] s_acc_reg = 0;
reg signed [O_ACC_WIDTH-1:0] o_acc_reg = 0;
reg [BITS-1:0] out_reg = 0;
reg out_valid_reg = 1'b0;
reg out_last_reg = 1'b0;

assign s_axis_tready = state_reg == ST_LOAD;
assign m_axis_tdata = out_reg;
assign m_axis_tvalid = out_valid_reg;
assign m_axis_tlast = out_last_reg;

// code = clamp(round_half_even((acc * M + B) / 2^S), 0, 2^BITS - 1)
function [BITS-1:0] requantize(input signed [O_ACC_WIDTH-1:0] acc, input [FRAC_BITS-1:0] mult, input [7:0] shift,
                               input signed [CONST_WIDTH-1:0] offset);
    reg signed [SUM_WIDTH-1:0] sum;
    reg signed [SUM_WIDTH-1:0] quotient;
    reg signed [SUM_WIDTH-1:0] rest;
    reg signed [SUM_WIDTH-1:0] half;
    begin
        sum = acc * $signed({1'b0, mult}) + offset;
        quotient = sum >>> shift;
        rest = sum - (quotient <<< shift);
        half = shift == 0 ? 0 : (1 <<< (shift - 1));
        if (shift != 0 && (rest > half || (rest == half && quotient[0]))) quotient = quotient + 1;
        if (quotient < 0) requantize = 0;
        else if (quotient > CODE_MAX) requantize = CODE_MAX;
        else requantize = quotient[BITS-1:0];
    end
endfunction

// 2^(F - t): the PV pass multiplies by it with `*`
function [F:0] weight(input [S_BITS-1:0] t);
    weight = 1 << (F - t);
endfunction

// The softmax baseline, one row at a time
wire sm_in_ready;
wire [S_BITS:0] sm_out;
wire sm_out_valid;
wire sm_out_last;
reg [BITS-1:0] sm_in_reg = 0;
reg sm_in_valid_reg = 1'b0;
reg sm_in_last_reg = 1'b0;

softmax_baseline #(
    .IN_BITS(BITS), .OUT_BITS(S_BITS), .MAX_LENGTH(MAX_TOKENS), .INDEX_WIDTH(SM_INDEX_WIDTH), .ELEM_WIDTH(SM_ELEM_WIDTH),
    .SUM_WIDTH(SM_SUM_WIDTH), .X0(X0), .B(B), .C(C), .N(N)
) softmax_inst (
    .clk(clk), .rst(rst),
    .s_axis_tdata(sm_in_reg), .s_axis_tvalid(sm_in_valid_reg), .s_axis_tlast(sm_in_last_reg), .s_axis_tready(sm_in_ready),
    .m_axis_tdata(sm_out), .m_axis_tvalid(sm_out_valid), .m_axis_tlast(sm_out_last), .m_axis_tready(1'b1)
);


always @(posedge clk) begin
    if (m_axis_tready) out_valid_reg <= 1'b0;
    case (state_reg)
        ST_LOAD: begin
            if (s_axis_tvalid) begin
                if (part_reg == 0) q_mem[count_reg * DIM + col_reg] <= s_axis_tdata;
                if (part_reg == 1) k_mem[count_reg * DIM + col_reg] <= s_axis_tdata;
                if (part_reg == 2) v_mem[count_reg * DIM + col_reg] <= s_axis_tdata;
                if (col_reg == DIM - 1) begin
                    col_reg <= 0;
                    part_reg <= part_reg == 2 ? 0 : part_reg + 1;
                    if (part_reg == 2) count_reg <= count_reg + 1;
                end else begin
                    col_reg <= col_reg + 1;
                end
                if (s_axis_tlast) begin
                    state_reg <= ST_QK;
                    part_reg <= 0;
                    col_reg <= 0;
                    h_reg <= 0;
                    i_reg <= 0;
                    j_reg <= 0;
                    d_reg <= 0;
                    s_acc_reg <= 0;
                end
            end
        end
        ST_QK: begin
            // S_ij, one MAC per step (read, then multiply and add); the code into the row's buffer
            if (!read_done_reg) begin
                a_read_reg <= q_mem[i_reg * DIM + h_reg * HEAD_DIM + d_reg];
                b_read_reg <= k_mem[j_reg * DIM + h_reg * HEAD_DIM + d_reg];
                read_done_reg <= 1'b1;
            end else begin
                read_done_reg <= 1'b0;
                if (d_reg == HEAD_DIM - 1) begin
                    score_mem[j_reg] <= requantize(s_acc_reg + ($signed({1'b0, a_read_reg}) - zp_s) * ($signed({1'b0, b_read_reg}) - zp_s),
                                                   s_mult, s_shift, s_offset);
                    s_acc_reg <= 0;
                    d_reg <= 0;
                    if (j_reg == count_reg - 1) begin
                        j_reg <= 0;
                        state_reg <= ST_FEED;
                    end else begin
                        j_reg <= j_reg + 1;
                    end
                end else begin
                    s_acc_reg <= s_acc_reg + ($signed({1'b0, a_read_reg}) - zp_s) * ($signed({1'b0, b_read_reg}) - zp_s);
                    d_reg <= d_reg + 1;
                end
            end
        end
        ST_FEED: begin
            // The row into the softmax
            if (sm_in_valid_reg && sm_in_ready) sm_in_valid_reg <= 1'b0;
            if (!read_done_reg) begin
                if (!sm_in_valid_reg || sm_in_ready) begin
                    sm_in_reg <= score_mem[j_reg];
                    sm_in_last_reg <= j_reg == count_reg - 1;
                    sm_in_valid_reg <= 1'b1;
                    if (j_reg == count_reg - 1) begin
                        j_reg <= 0;
                        read_done_reg <= 1'b1;
                    end else begin
                        j_reg <= j_reg + 1;
                    end
                end
            end else if (!sm_in_valid_reg || sm_in_ready) begin
                read_done_reg <= 1'b0;
                state_reg <= ST_PROB;
            end
        end
        ST_PROB: begin
            // The row's probabilities back
            if (sm_out_valid) begin
                prob_mem[j_reg] <= sm_out;
                if (sm_out_last) begin
                    j_reg <= 0;
                    d_reg <= 0;
                    o_acc_reg <= 0;
                    state_reg <= ST_PV;
                end else begin
                    j_reg <= j_reg + 1;
                end
            end
        end
        ST_PV: begin
            // O_id = sum_j (v_jd - zp_s) * 2^(F - t_ij), one term per step
            if (!read_done_reg) begin
                a_read_reg <= v_mem[j_reg * DIM + h_reg * HEAD_DIM + d_reg];
                p_read_reg <= prob_mem[j_reg];
                read_done_reg <= 1'b1;
            end else begin
                read_done_reg <= 1'b0;
                if (j_reg == count_reg - 1) begin
                    o_acc_reg <= p_read_reg[S_BITS] ? o_acc_reg : o_acc_reg + ($signed({1'b0, a_read_reg}) - zp_s) * $signed({1'b0, weight(p_read_reg[S_BITS-1:0])});
                    j_reg <= 0;
                    state_reg <= ST_OUT;
                end else begin
                    if (!p_read_reg[S_BITS]) o_acc_reg <= o_acc_reg + ($signed({1'b0, a_read_reg}) - zp_s) * $signed({1'b0, weight(p_read_reg[S_BITS-1:0])});
                    j_reg <= j_reg + 1;
                end
            end
        end
        default: begin
            // The output code of (i, d); then the next element, row, head
            if (!out_valid_reg || m_axis_tready) begin
                out_reg <= requantize(o_acc_reg, o_mult, o_shift, o_offset);
                out_last_reg <= d_reg == HEAD_DIM - 1;
                out_valid_reg <= 1'b1;
                o_acc_reg <= 0;
                if (d_reg != HEAD_DIM - 1) begin
                    d_reg <= d_reg + 1;
                    state_reg <= ST_PV;
                end else begin
                    d_reg <= 0;
                    state_reg <= ST_QK;
                    if (i_reg != count_reg - 1) begin
                        i_reg <= i_reg + 1;
                    end else begin
                        i_reg <= 0;
                        if (h_reg != HEADS - 1) begin
                            h_reg <= h_reg + 1;
                        end else begin
                            h_reg <= 0;
                            count_reg <= 0;
                            state_reg <= ST_LOAD;
                        end
                    end
                end
            end
        end
    endcase
    if (rst) begin
        state_reg <= ST_LOAD;
        part_reg <= 0;
        col_reg <= 0;
        count_reg <= 0;
        read_done_reg <= 1'b0;
        out_valid_reg <= 1'b0;
        sm_in_valid_reg <= 1'b0;
    end
end

endmodule
// verilator lint_on WIDTH

`resetall
