`resetall
`timescale 1ns / 1ps
`default_nettype none

// Hand-written behavioural baseline for the benchmark (not generated): the PTF LayerNorm's integer function (the
// golden model of generators/layernorm/model.ts) written the way a user would by hand, one token at a time, no
// pipelining: load the C codes while summing S and Q; var = C*Q - S*S; normalize var; a square-root loop (one result
// bit per cycle); R and W with `/`; then one output code per channel with `*` and shifts, rounding half to even.
// verilator lint_off WIDTH
// (written as a user would: the arithmetic relies on Verilog's extension of operands to the expression's width)
module layernorm_baseline #(
    // Width of the input and output codes
    parameter BITS = 4,
    // Channels C per token
    parameter CHANNELS = 384,
    // Width of a channel index
    parameter CHANNEL_WIDTH = 9,
    // Input and output zero points
    parameter ZERO_POINT = 0,
    parameter OUT_ZERO_POINT = 8,
    // Signed widths of x, S; unsigned width of Q
    parameter X_WIDTH = 8,
    parameter SUM_WIDTH = 17,
    parameter SQ_WIDTH = 24,
    // Normalized variance width VW (even), largest normalizing shift and its width
    parameter VAR_WIDTH = 34,
    parameter K_MAX = 12,
    parameter K_WIDTH = 4,
    // F: bits of R; G: radicand guard (may be negative); WR, WG: bits of R and |ga| in A; FW, FK: fraction bits
    parameter RSQRT_BITS = 28,
    parameter SQRT_GUARD = 0,
    parameter R_BITS_A = 22,
    parameter MANTISSA_A = 18,
    parameter FRAC_W = 22,
    parameter FRAC_K = 44,
    // Signed widths of W, gt, bk, nA, Kf = bk - W*gt and of the element sum sign*M*x + B
    parameter W_WIDTH = 40,
    parameter GT_WIDTH = 30,
    parameter BK_WIDTH = 50,
    parameter NA_WIDTH = 8,
    parameter KF_WIDTH = 80,
    parameter ACC_WIDTH = 64,
    // Constant ROM: one word {bk, gt, nA, sign (2 bits, signed), |ga|, alpha (2 bits)} per channel
    parameter CONST_FILE = "layernorm_baseline_constants.hex",
    // alpha of each channel again, read while loading
    parameter ALPHA_FILE = "layernorm_baseline_alpha.hex"
) (
    input  wire            clk,
    input  wire            rst,

    input  wire [BITS-1:0] s_axis_tdata,
    input  wire            s_axis_tvalid,
    // Tokens are framed by counting CHANNELS beats, as in the generated block
    // verilator lint_off UNUSEDSIGNAL
    input  wire            s_axis_tlast,
    // verilator lint_on UNUSEDSIGNAL
    output wire            s_axis_tready,

    output wire [BITS-1:0] m_axis_tdata,
    output wire            m_axis_tvalid,
    output wire            m_axis_tlast,
    input  wire            m_axis_tready
);

localparam CONST_WIDTH = BK_WIDTH + GT_WIDTH + NA_WIDTH + 2 + MANTISSA_A + 2;
localparam ROOT_WIDTH = RSQRT_BITS + 1;
localparam RADICAND_WIDTH = 2 * RSQRT_BITS + 2;
localparam WIDE = VAR_WIDTH + 2 * K_MAX + 2;
localparam W_NUM_WIDTH = SUM_WIDTH + FRAC_W + K_MAX + (SQRT_GUARD > 0 ? SQRT_GUARD : 0) + 1;

localparam [2:0] STATE_LOAD = 3'd0;
localparam [2:0] STATE_STATS = 3'd1;
localparam [2:0] STATE_SQRT = 3'd2;
localparam [2:0] STATE_DIVIDE = 3'd3;
localparam [2:0] STATE_OUT = 3'd4;

reg [BITS-1:0]        q_mem [0:CHANNELS-1];
reg [CONST_WIDTH-1:0] const_mem [0:CHANNELS-1];
reg [1:0]             alpha_mem [0:CHANNELS-1];
initial begin
    $readmemh(CONST_FILE, const_mem);
    $readmemh(ALPHA_FILE, alpha_mem);
end

reg [2:0]                    state_reg = STATE_LOAD;
reg [CHANNEL_WIDTH-1:0]      index_reg = 0;
reg signed [SUM_WIDTH-1:0]   s_reg = 0;
reg [SQ_WIDTH-1:0]           q_reg = 0;
reg                          constant_reg = 1'b0;
reg [K_WIDTH-1:0]            k_reg = 0;
reg [RADICAND_WIDTH-1:0]     radicand_reg = 0;
reg [ROOT_WIDTH:0]           remainder_reg = 0;
reg [ROOT_WIDTH-1:0]         root_reg = 0;
reg [CHANNEL_WIDTH-1:0]      step_reg = 0;
reg [ROOT_WIDTH-1:0]         r_reg = 0;
reg signed [W_WIDTH-1:0]     w_reg = 0;
reg                          read_done_reg = 1'b0;
reg [BITS-1:0]               q_read_reg = 0;
reg [CONST_WIDTH-1:0]        const_read_reg = 0;
reg [BITS-1:0]               out_reg = 0;
reg                          out_last_reg = 1'b0;
reg                          out_valid_reg = 1'b0;

assign s_axis_tready = state_reg == STATE_LOAD;
assign m_axis_tdata = out_reg;
assign m_axis_tvalid = out_valid_reg;
assign m_axis_tlast = out_last_reg;

// Loading: x = (q - zp) << alpha of the arriving channel.
wire [1:0]                  load_alpha = alpha_mem[index_reg];
wire signed [X_WIDTH-1:0]   load_x = ($signed({1'b0, s_axis_tdata}) - ZERO_POINT) <<< load_alpha;
wire signed [2*X_WIDTH-1:0] load_sq = load_x * load_x;

// var = C*Q - S*S and its normalization: vn = var * 4^k in [2^(VW-2), 2^VW).
reg signed [WIDE-1:0] variance;
reg [WIDE-1:0]        shifted;
reg [WIDE-1:0]        var_limit;
reg [K_WIDTH-1:0]     k;
integer               j;

always @(*) begin
    variance = CHANNELS * $signed({1'b0, q_reg}) - s_reg * s_reg;
    var_limit = 0;
    var_limit[VAR_WIDTH] = 1'b1;
    k = 0;
    for (j = 1; j <= K_MAX; j = j + 1) begin
        shifted = variance << (2 * j);
        if (shifted < var_limit) k = j;
    end
end

// One step of the bit-by-bit square root.
wire [ROOT_WIDTH+2:0] sqrt_partial = {remainder_reg[ROOT_WIDTH:0], radicand_reg[RADICAND_WIDTH-1 -: 2]};
wire [ROOT_WIDTH+2:0] sqrt_trial = {1'b0, root_reg, 2'b01};

// R = floor(2^(2F) / s) and W = floor(S * 2^(FW + k + G) / s).
reg signed [W_NUM_WIDTH-1:0] w_num;
reg signed [W_NUM_WIDTH-1:0] w_quot;
reg [2*RSQRT_BITS:0]         r_num;

always @(*) begin
    r_num = 0;
    r_num[2*RSQRT_BITS] = 1'b1;
    w_num = SQRT_GUARD >= 0 ? s_reg <<< (FRAC_W + k_reg + SQRT_GUARD) : s_reg <<< (FRAC_W + k_reg - (-SQRT_GUARD));
    w_quot = w_num / $signed({1'b0, root_reg});
    if (w_num < 0 && w_quot * $signed({1'b0, root_reg}) != w_num) w_quot = w_quot - 1;
end

// One output element.
wire signed [BK_WIDTH-1:0]  c_bk = const_read_reg[CONST_WIDTH-1 -: BK_WIDTH];
wire signed [GT_WIDTH-1:0]  c_gt = const_read_reg[CONST_WIDTH-BK_WIDTH-1 -: GT_WIDTH];
wire signed [NA_WIDTH-1:0]  c_na = const_read_reg[MANTISSA_A+4+NA_WIDTH-1 -: NA_WIDTH];
wire signed [1:0]           c_sign = const_read_reg[MANTISSA_A+3 -: 2];
wire [MANTISSA_A-1:0]       c_ga = const_read_reg[MANTISSA_A+1:2];
wire [1:0]                  c_alpha = const_read_reg[1:0];

reg signed [X_WIDTH-1:0]             x;
reg [R_BITS_A+MANTISSA_A-1:0]        pa;
reg                                  delta;
reg signed [NA_WIDTH+1:0]            n_u;
reg [8:0]                            m;
reg [5:0]                            n;
reg signed [KF_WIDTH:0]              kf;
reg signed [KF_WIDTH:0]              b;
reg signed [KF_WIDTH:0]              b_rest;
reg signed [ACC_WIDTH:0]             acc;
reg signed [ACC_WIDTH:0]             y;
reg signed [ACC_WIDTH:0]             y_rest;
reg [6:0]                            b_shift;
reg signed [ACC_WIDTH+1:0]           code;

always @(*) begin
    acc = 0;
    y_rest = 0;
    x = ($signed({1'b0, q_read_reg}) - ZERO_POINT) <<< c_alpha;
    pa = (r_reg >> (RSQRT_BITS - R_BITS_A)) * c_ga;
    delta = pa[R_BITS_A+MANTISSA_A-1];
    n_u = c_na - $signed({1'b0, k_reg}) - delta;
    m = pa >> (R_BITS_A + MANTISSA_A - 9 + delta);
    n = n_u;
    if (c_sign == 0) begin
        m = 0;
        n = 31;
    end else if (n_u < 0) begin
        m = 255;
        n = 0;
    end else if (n_u > 31) begin
        m = m >> (n_u - 31);
        n = 31;
    end
    // B = round((bk - W*gt) / 2^(FK - N)), half to even; a constant token outputs round(bk / 2^FK).
    kf = constant_reg ? c_bk : c_bk - w_reg * c_gt;
    b_shift = constant_reg ? FRAC_K : FRAC_K - n;
    b = kf >>> b_shift;
    b_rest = kf - (b <<< b_shift);
    if (2 * b_rest > (1 << b_shift) || (2 * b_rest == (1 << b_shift) && b[0])) b = b + 1;
    if (constant_reg) begin
        y = b;
    end else begin
        acc = c_sign * $signed({1'b0, m}) * x + b;
        y = acc >>> n;
        y_rest = acc - (y <<< n);
        if (n != 0 && (2 * y_rest > (1 << n) || (2 * y_rest == (1 << n) && y[0]))) y = y + 1;
    end
    code = y + OUT_ZERO_POINT;
end

always @(posedge clk) begin
    if (m_axis_tready) out_valid_reg <= 1'b0;
    case (state_reg)
        STATE_LOAD: begin
            if (s_axis_tvalid) begin
                q_mem[index_reg] <= s_axis_tdata;
                s_reg <= (index_reg == 0 ? 0 : s_reg) + load_x;
                q_reg <= (index_reg == 0 ? 0 : q_reg) + $unsigned(load_sq);
                index_reg <= index_reg + 1;
                if (index_reg == CHANNELS - 1) state_reg <= STATE_STATS;
            end
        end
        STATE_STATS: begin
            constant_reg <= variance == 0;
            k_reg <= k;
            radicand_reg <= SQRT_GUARD >= 0 ? (variance << (2 * k)) << (2 * SQRT_GUARD) : (variance << (2 * k)) >> (-2 * SQRT_GUARD);
            remainder_reg <= 0;
            root_reg <= 0;
            step_reg <= 0;
            state_reg <= variance == 0 ? STATE_OUT : STATE_SQRT;
            index_reg <= 0;
        end
        STATE_SQRT: begin
            if (sqrt_partial >= sqrt_trial) begin
                remainder_reg <= sqrt_partial - sqrt_trial;
                root_reg <= {root_reg[ROOT_WIDTH-2:0], 1'b1};
            end else begin
                remainder_reg <= sqrt_partial;
                root_reg <= {root_reg[ROOT_WIDTH-2:0], 1'b0};
            end
            radicand_reg <= radicand_reg << 2;
            step_reg <= step_reg + 1;
            if (step_reg == ROOT_WIDTH - 1) state_reg <= STATE_DIVIDE;
        end
        STATE_DIVIDE: begin
            r_reg <= r_num / root_reg;
            w_reg <= w_quot;
            state_reg <= STATE_OUT;
        end
        default: begin
            if (!read_done_reg) begin
                q_read_reg <= q_mem[index_reg];
                const_read_reg <= const_mem[index_reg];
                read_done_reg <= 1'b1;
            end else if (!out_valid_reg || m_axis_tready) begin
                out_reg <= code < 0 ? 0 : code > (1 << BITS) - 1 ? {BITS{1'b1}} : code[BITS-1:0];
                out_last_reg <= index_reg == CHANNELS - 1;
                out_valid_reg <= 1'b1;
                read_done_reg <= 1'b0;
                index_reg <= index_reg + 1;
                if (index_reg == CHANNELS - 1) begin
                    state_reg <= STATE_LOAD;
                    index_reg <= 0;
                end
            end
        end
    endcase
    if (rst) begin
        state_reg <= STATE_LOAD;
        index_reg <= 0;
        read_done_reg <= 1'b0;
        out_valid_reg <= 1'b0;
    end
end

endmodule
// verilator lint_on WIDTH

`resetall
