`resetall
`timescale 1ns / 1ps
`default_nettype none

// Hand-written behavioural baseline for the benchmark (not generated): the LIS softmax written the way a user would
// by hand, one row at a time in three passes over a row buffer (load and find the maximum; i-exp with `/` and `*`,
// summing; y = round(E / e) with `/`, then the log2 rounding), no pipelining. Output beat {zero, code} per element;
// zero is set when e = 0 or the code does not fit OUT_BITS (then code is all ones).
// verilator lint_off WIDTH
// (written as a user would: the arithmetic relies on Verilog's extension of operands to the expression's width)
module softmax_baseline #(
    // Width of the unsigned input codes
    parameter IN_BITS = 4,
    // Width of the output code
    parameter OUT_BITS = 4,
    // Longest row; a row that reaches it without tlast ends there
    parameter MAX_LENGTH = 197,
    // Width of a row index
    parameter INDEX_WIDTH = 8,
    // Width of one exp e
    parameter ELEM_WIDTH = 40,
    // Width of the row sum E
    parameter SUM_WIDTH = 48,
    // FQ-ViT's i-exp constants for the input scale: x0 = floor(-ln2 / s), b, c, and the exp shift n
    parameter signed [31:0] X0 = -1,
    parameter signed [31:0] B = 1,
    parameter signed [31:0] C = 1,
    parameter N = 30
) (
    input  wire                clk,
    input  wire                rst,

    input  wire [IN_BITS-1:0]  s_axis_tdata,
    input  wire                s_axis_tvalid,
    input  wire                s_axis_tlast,
    output wire                s_axis_tready,

    output wire [OUT_BITS:0]   m_axis_tdata,
    output wire                m_axis_tvalid,
    output wire                m_axis_tlast,
    input  wire                m_axis_tready
);

localparam [1:0] STATE_LOAD = 2'd0;
localparam [1:0] STATE_EXP = 2'd1;
localparam [1:0] STATE_OUT = 2'd2;
localparam [OUT_BITS-1:0] CODE_MAX = {OUT_BITS{1'b1}};

reg [IN_BITS-1:0]     q_mem [0:MAX_LENGTH-1];
reg [ELEM_WIDTH-1:0]  e_mem [0:MAX_LENGTH-1];

reg [1:0]             state_reg = STATE_LOAD;
reg [INDEX_WIDTH-1:0] count_reg = 0;
reg [INDEX_WIDTH-1:0] index_reg = 0;
// The buffers are read in one cycle and used in the next.
reg                   read_done_reg = 1'b0;
reg [IN_BITS-1:0]     max_reg = 0;
reg [SUM_WIDTH-1:0]   sum_reg = 0;
reg [IN_BITS-1:0]     q_read_reg = 0;
reg [ELEM_WIDTH-1:0]  e_read_reg = 0;
reg [OUT_BITS:0]      out_reg = 0;
reg                   out_last_reg = 1'b0;
reg                   out_valid_reg = 1'b0;

assign s_axis_tready = state_reg == STATE_LOAD;
assign m_axis_tdata = out_reg;
assign m_axis_tvalid = out_valid_reg;
assign m_axis_tlast = out_last_reg;

// i-exp of one element.
reg signed [31:0]           x;
reg signed [31:0]           k;
reg signed [31:0]           r;
reg signed [63:0]           z;
reg [ELEM_WIDTH-1:0]        e;

always @(*) begin
    x = $signed({24'd0, q_read_reg}) - $signed({24'd0, max_reg});
    if (x < N * X0) x = N * X0;
    k = x / X0;
    r = x - X0 * k;
    z = r * (r + B) + C;
    if (z < 0) z = 0;
    e = z[ELEM_WIDTH-1:0] << (N - k);
end

// y = round_half_even(E / e), then t = floor(log2 y), plus one if y - 2^t >= 2^(t-1).
reg [SUM_WIDTH-1:0] y;
reg [SUM_WIDTH:0]   remainder;
reg [7:0]           t;
reg [SUM_WIDTH:0]   power;
integer             i;

always @(*) begin
    y = e_read_reg == 0 ? 0 : sum_reg / e_read_reg;
    remainder = {1'b0, sum_reg} - y * e_read_reg;
    if (e_read_reg != 0 && (2 * remainder > e_read_reg || (2 * remainder == e_read_reg && y[0]))) y = y + 1;
    t = 0;
    for (i = 0; i < SUM_WIDTH; i = i + 1) begin
        if (y[i]) t = i;
    end
    power = 1 << t;
    if (2 * (y - power) >= power) t = t + 1;
end

always @(posedge clk) begin
    if (m_axis_tready) out_valid_reg <= 1'b0;
    case (state_reg)
        STATE_LOAD: begin
            if (s_axis_tvalid) begin
                q_mem[count_reg] <= s_axis_tdata;
                if (count_reg == 0 || s_axis_tdata > max_reg) max_reg <= s_axis_tdata;
                count_reg <= count_reg + 1;
                if (s_axis_tlast || count_reg == MAX_LENGTH - 1) begin
                    state_reg <= STATE_EXP;
                    index_reg <= 0;
                    sum_reg <= 0;
                end
            end
        end
        STATE_EXP: begin
            if (!read_done_reg) begin
                q_read_reg <= q_mem[index_reg];
                read_done_reg <= 1'b1;
            end else begin
                e_mem[index_reg] <= e;
                sum_reg <= sum_reg + e;
                read_done_reg <= 1'b0;
                index_reg <= index_reg + 1;
                if (index_reg == count_reg - 1) begin
                    state_reg <= STATE_OUT;
                    index_reg <= 0;
                end
            end
        end
        default: begin
            if (!read_done_reg) begin
                e_read_reg <= e_mem[index_reg];
                read_done_reg <= 1'b1;
            end else if (!out_valid_reg || m_axis_tready) begin
                out_reg <= (e_read_reg == 0 || t > CODE_MAX) ? {1'b1, CODE_MAX} : {1'b0, t[OUT_BITS-1:0]};
                out_last_reg <= index_reg == count_reg - 1;
                out_valid_reg <= 1'b1;
                read_done_reg <= 1'b0;
                index_reg <= index_reg + 1;
                if (index_reg == count_reg - 1) begin
                    state_reg <= STATE_LOAD;
                    count_reg <= 0;
                end
            end
        end
    endcase
    if (rst) begin
        state_reg <= STATE_LOAD;
        count_reg <= 0;
        read_done_reg <= 1'b0;
        out_valid_reg <= 1'b0;
    end
end

endmodule
// verilator lint_on WIDTH

`resetall
