/**
 * RTL emitter of the LayerNorm block: spec → the Verilog modules (one job each) and the JSON manifest. Every width
 * and constant comes from the resolved spec; the Verilog only binds them.
 *
 *   s_axis → stats (x, S, Q per token; writes the codes into the token buffer)
 *          → token unit (var, k, s = isqrt, R and W by two dividers; once per token, overlapped with the next token)
 *          → element pipeline (reads the buffered codes and the channel RAM: M, N, B, y, clamp) → m_axis
 */
import { clog2, signedWidth, toUnsigned, unsignedWidth } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { moduleName } from '../common/names.ts';
import { packWord, type Program, type ProgramField, type ProgramFormat } from '../common/program.ts';
import { headerComment } from '../common/verilog.ts';
import { boothCorrection, emitDivider, emitIsqrt, emitMn, emitPipelinedMultiplier, emitRoundShiftPipelined, pipelinedMultiplierPlan, type PipelinedMultiplierPlan } from './leaves.ts';
import type { ChannelConstants } from './model.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { CHANNELS_MIN, scaleRatioLog2, type LayernormSpec } from './spec.ts';

export const TOP = 'ptf_layernorm';

const PRELUDE = '`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n';
const POSTLUDE = '\n`resetall\n';

/** Cycles of the stats pipeline from an accepted beat to the token's S and Q. */
/** Latency of the stats' squaring multiplier d·d (d = q − zp). */
function squareLatency(spec: LayernormSpec): number {
  return pipelinedMultiplierPlan(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY).latency;
}

/** Cycles of the stats pipeline from an accepted beat to the token's S and Q. */
export function statsStages(spec: LayernormSpec): number {
  return 3 + squareLatency(spec);
}


/** Widths of the RTL that follow from the spec's derived widths (so the emitters and the manifest agree). */
export interface LayernormRtlWidths {
  absWidth: number;
  prodWidth: number;
  wShift: number;
  kfInWidth: number;
  kShiftWidth: number;
  accWidth: number;
  bufferAddrWidth: number;
  /** Token units working on alternate tokens: 2 when one unit's time exceeds max_channels. */
  tokenUnits: number;
}

function absWidthOf(spec: LayernormSpec): number {
  return unsignedWidth(BigInt(spec.maxChannels) * (((1n << BigInt(spec.bits)) - 1n) << 3n));
}

export function rtlWidths(spec: LayernormSpec): LayernormRtlWidths {
  const d = spec.derived;
  const p = d.precision;
  const absWidth = absWidthOf(spec);
  const t = tokenUnitCycles(spec);
  // A token's codes stay in the buffer from its first beat in until its last beat out (2C + the stats pipeline + the
  // token unit, tokens arriving every C cycles), so the buffer holds that many entries (at least 2C).
  let bufferDepth = d.bufferDepth;
  while (bufferDepth < 2 * spec.maxChannels + statsStages(spec) + t + 2) bufferDepth *= 2;
  return {
    absWidth,
    prodWidth: Math.max(p.varWidth, 2 * absWidth),
    wShift: p.fracW + p.sqrtGuard + d.kMax,
    kfInWidth: Math.max(d.wWidth + d.gtWidth, d.bkWidth) + 1,
    kShiftWidth: unsignedWidth(p.fracK),
    accWidth: Math.max(d.accWidth, 33),
    bufferAddrWidth: clog2(bufferDepth),
    tokenUnits: t > spec.maxChannels ? 2 : 1,
  };
}

function file(what: string, spec: LayernormSpec, body: string): string {
  return `${PRELUDE}\n${headerComment(what, specSummary(spec))}\n${body}${POSTLUDE}`;
}

/** The hardware spec as written into headers and the manifest (the layer is a program: not in the RTL). */
export function specSummary(spec: LayernormSpec): Record<string, unknown> {
  return { block: 'layernorm', bits: spec.bits, max_channels: spec.maxChannels, rsqrt_bits: spec.rsqrtBits, prefix: spec.prefix };
}

/**
 * A RAM with one write port (the program) and one synchronous read port (inferred as block RAM where the target has
 * it). Its words are written by a program before any token reads them: a read never meets a write.
 */
function emitRam(spec: LayernormSpec, name: string, what: string): string {
  return file(`${name}: ${what}`, spec, `module ${name} #(
    // Width of one word
    parameter WIDTH = 2,
    // Width of the address (2^ADDR_WIDTH ≥ DEPTH)
    parameter ADDR_WIDTH = 1,
    // Number of words
    parameter DEPTH = 2
) (
    input  wire                  clk,
    input  wire                  wr_en,
    input  wire [ADDR_WIDTH-1:0] wr_addr,
    input  wire [WIDTH-1:0]      wr_data,
    input  wire                  rd_en,
    input  wire [ADDR_WIDTH-1:0] rd_addr,
    output wire [WIDTH-1:0]      rd_data
);

reg [WIDTH-1:0] mem [0:DEPTH-1];
reg [WIDTH-1:0] rd_data_reg = {WIDTH{1'b0}};

always @(posedge clk) begin
    if (wr_en) mem[wr_addr] <= wr_data;
    if (rd_en) rd_data_reg <= mem[rd_addr];
end

assign rd_data = rd_data_reg;

endmodule
`);
}

/** bk plus the +1s the Booth multiplier leaves out of W·(-gt) (a per-channel constant: it depends on gt only). */
function kfAddend(ch: ChannelConstants, gtWidth: number): bigint {
  return ch.bk + boothCorrection(-ch.gt, gtWidth);
}

/** Signed width of the Kf multiplier's addend bk + boothCorrection(−gt) over every allowed layer (|bk| ≤ 2^(bkWidth−1) − 1). */
export function kfAddendWidth(spec: LayernormSpec): number {
  const d = spec.derived;
  const bkMax = (1n << BigInt(d.bkWidth - 1)) - 1n;
  const boothMax = ((1n << BigInt(2 * Math.ceil(d.gtWidth / 2))) - 1n) / 3n; // Σ 4^i over the digits
  return signedWidth(-bkMax, bkMax + boothMax);
}

/** Width of one constant-RAM word (a channel word of the program). */
function constWidth(spec: LayernormSpec): number {
  const d = spec.derived;
  return kfAddendWidth(spec) + d.gtWidth + d.nAWidth + 2 + d.precision.mantissaA + 2;
}

/** The constant-RAM word of each channel (its program word): {bk, -gt, nA, sign_neg, gamma_zero, |ga|, alpha}, bk in the top bits. */
export function constWords(spec: LayernormSpec): bigint[] {
  const d = spec.derived;
  return spec.constants.map((ch) => {
    let w = toUnsigned(kfAddend(ch, d.gtWidth), kfAddendWidth(spec));
    w = (w << BigInt(d.gtWidth)) | toUnsigned(-ch.gt, d.gtWidth);
    w = (w << BigInt(d.nAWidth)) | toUnsigned(BigInt(ch.nA), d.nAWidth);
    w = (w << 1n) | (ch.sign < 0 ? 1n : 0n);
    w = (w << 1n) | (ch.sign === 0 ? 1n : 0n);
    w = (w << BigInt(d.precision.mantissaA)) | ch.gaMag;
    return (w << 2n) | BigInt(ch.alpha);
  });
}

function emitBuffer(spec: LayernormSpec): string {
  const w = rtlWidths(spec);
  return file('ptf_layernorm_buffer: the token buffer, a FIFO in inferred RAM', spec, `module ptf_layernorm_buffer #(
    // Width of one code
    parameter DATA_WIDTH = ${spec.bits},
    // Address width (2^ADDR_WIDTH ≥ 2·MAX_CHANNELS entries: one token streams in while another streams out)
    parameter ADDR_WIDTH = ${w.bufferAddrWidth}
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  wr_en,
    input  wire [DATA_WIDTH-1:0] wr_data,
    output wire                  full,
    input  wire                  rd_en,
    output wire [DATA_WIDTH-1:0] rd_data,
    output wire                  empty
);

reg [DATA_WIDTH-1:0] mem [0:(1<<ADDR_WIDTH)-1];
reg [ADDR_WIDTH:0]   wr_ptr_reg = {ADDR_WIDTH+1{1'b0}};
reg [ADDR_WIDTH:0]   rd_ptr_reg = {ADDR_WIDTH+1{1'b0}};
reg [DATA_WIDTH-1:0] rd_data_reg = {DATA_WIDTH{1'b0}};
// empty is registered (it gates the reader's whole pipeline): it compares the write pointer before this cycle's write
// with the read pointer after this cycle's read, so a write shows one cycle later (never too early).
reg                  empty_reg = 1'b1;
wire [ADDR_WIDTH:0]  rd_ptr_plus1 = rd_ptr_reg + 1'b1;
// full likewise: the write pointer after this cycle's write against the read pointer before this cycle's read.
reg                  full_reg = 1'b0;
wire [ADDR_WIDTH:0]  wr_ptr_plus1 = wr_ptr_reg + 1'b1;
wire [ADDR_WIDTH:0]  rd_ptr_wrapped = {~rd_ptr_reg[ADDR_WIDTH], rd_ptr_reg[ADDR_WIDTH-1:0]};

always @(posedge clk) begin
    // Both comparisons come from registers; the enables only choose between them.
    empty_reg <= rd_en ? wr_ptr_reg == rd_ptr_plus1 : wr_ptr_reg == rd_ptr_reg;
    full_reg <= wr_en ? wr_ptr_plus1 == rd_ptr_wrapped : wr_ptr_reg == rd_ptr_wrapped;
    if (wr_en) begin
        mem[wr_ptr_reg[ADDR_WIDTH-1:0]] <= wr_data;
        wr_ptr_reg <= wr_ptr_reg + 1'b1;
    end
    if (rd_en) begin
        rd_data_reg <= mem[rd_ptr_reg[ADDR_WIDTH-1:0]];
        rd_ptr_reg <= rd_ptr_reg + 1'b1;
    end
    if (rst) begin
        wr_ptr_reg <= {ADDR_WIDTH+1{1'b0}};
        rd_ptr_reg <= {ADDR_WIDTH+1{1'b0}};
        empty_reg <= 1'b1;
        full_reg <= 1'b0;
    end
end

assign full = full_reg;
assign empty = empty_reg;
assign rd_data = rd_data_reg;

endmodule
`);
}

function emitStats(spec: LayernormSpec): string {
  const d = spec.derived;
  return file('ptf_layernorm_stats: x = (q - zp) << alpha, and the exact sums S and Q of each token', spec, `module ptf_layernorm_stats #(
    // Width of one code
    parameter DATA_WIDTH = ${spec.bits},
    // Width of the channel counter
    parameter CHANNEL_WIDTH = ${d.channelWidth},
    // Signed width of x
    parameter X_WIDTH = ${d.xWidth},
    // Width of x^2
    parameter XSQ_WIDTH = ${d.xSqWidth},
    // Signed width of S
    parameter SUM_WIDTH = ${d.sumWidth},
    // Width of Q
    parameter SQ_WIDTH = ${d.sqWidth},
    // Cycles of the d^2 multiplier, and its product width
    parameter SQUARE_LATENCY = ${squareLatency(spec)},
    parameter SQUARE_WIDTH = ${pipelinedMultiplierPlan(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY).productWidth}
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire [DATA_WIDTH-1:0]       s_axis_tdata,
    input  wire                        s_axis_tvalid,
    output wire                        s_axis_tready,
    input  wire                        s_axis_tlast,
    // The program (ptf_layernorm_config): loaded, being loaded or offered (data waits), C - 2, the zero point
    input  wire                        programmed,
    input  wire                        cfg_busy,
    input  wire [CHANNEL_WIDTH-1:0]    last_channel_m1,
    input  wire [DATA_WIDTH-1:0]       zero_point,
    input  wire                        alpha_wr_en,
    input  wire [CHANNEL_WIDTH-1:0]    alpha_wr_addr,
    input  wire [1:0]                  alpha_wr_data,
    // Pulses: a token's first beat entered; a token's tlast came early or late; data came with no program loaded
    output wire                        token_start,
    output wire                        err_length,
    output wire                        err_unprogrammed,
    input  wire                        buf_full,
    output wire                        buf_wr_en,
    output wire [DATA_WIDTH-1:0]       buf_wr_data,
    output wire                        m_valid,
    input  wire                        m_ready,
    output wire signed [SUM_WIDTH-1:0] m_sum,
    output wire [SQ_WIDTH-1:0]         m_sq
);

reg [CHANNEL_WIDTH-1:0] channel_reg = {CHANNEL_WIDTH{1'b0}};
reg                     stats_valid_reg = 1'b0;
reg signed [SUM_WIDTH-1:0] stats_sum_reg = {SUM_WIDTH{1'b0}};
reg [SQ_WIDTH-1:0]      stats_sq_reg = {SQ_WIDTH{1'b0}};

// channel_reg == C - 1 and channel_reg == 0, kept in registers (they gate the input handshake)
reg last_channel_reg = 1'b0;
reg first_channel_reg = 1'b1;
// Framing guards. pad_reg: a token's tlast came early, its missing channels enter as the zero point (x = 0), no input
// taken meanwhile. drop_reg: beats are discarded up to and including the next tlast (a token's tlast came late, or
// data came with no program).
reg pad_reg = 1'b0;
reg drop_reg = 1'b0;
// The last beat of a token waits until the previous token's sums have been taken, so they are never overwritten.
wire can_take = !buf_full && !(last_channel_reg && stats_valid_reg);
wire discard = drop_reg || !programmed;
assign s_axis_tready = !cfg_busy && !pad_reg && (discard || can_take);
wire in_accept = s_axis_tvalid && s_axis_tready;
wire take_input = in_accept && !discard;
wire pad_beat = pad_reg && can_take;
wire accept = take_input || pad_beat;
wire [DATA_WIDTH-1:0] beat_data = pad_reg ? zero_point : s_axis_tdata;
assign buf_wr_en = accept;
assign buf_wr_data = beat_data;
assign token_start = accept && first_channel_reg;
assign err_length = take_input && s_axis_tlast != last_channel_reg;
assign err_unprogrammed = in_accept && !programmed;

wire [1:0] alpha;

ptf_layernorm_alpha_ram #(
    .WIDTH(2),
    .ADDR_WIDTH(CHANNEL_WIDTH),
    .DEPTH(${spec.maxChannels})
) alpha_ram_inst (
    .clk(clk),
    .wr_en(alpha_wr_en),
    .wr_addr(alpha_wr_addr),
    .wr_data(alpha_wr_data),
    .rd_en(accept),
    .rd_addr(channel_reg),
    .rd_data(alpha)
);

// Stage a: the accepted code (alpha arrives from the ROM in the same cycle).
reg [DATA_WIDTH-1:0] q_a_reg = {DATA_WIDTH{1'b0}};
reg valid_a_reg = 1'b0;
reg last_a_reg = 1'b0;
// Stage b: x, d = q - zp and alpha.
reg signed [X_WIDTH-1:0] x_b_reg = {X_WIDTH{1'b0}};
reg signed [DATA_WIDTH:0] d_b_reg = {DATA_WIDTH+1{1'b0}};
reg [1:0] alpha_b_reg = 2'd0;
// Stages b+1 .. c: x, alpha, valid and last wait for d^2 from the pipelined multiplier (SQUARE_LATENCY cycles).
reg [SQUARE_LATENCY*X_WIDTH-1:0] x_pipe_reg = {SQUARE_LATENCY*X_WIDTH{1'b0}};
reg [SQUARE_LATENCY*2-1:0] alpha_pipe_reg = {SQUARE_LATENCY*2{1'b0}};
reg [SQUARE_LATENCY:0] valid_pipe_reg = {SQUARE_LATENCY+1{1'b0}};
reg [SQUARE_LATENCY:0] last_pipe_reg = {SQUARE_LATENCY+1{1'b0}};
wire signed [X_WIDTH-1:0] x_c = x_pipe_reg[SQUARE_LATENCY*X_WIDTH-1 -: X_WIDTH];
wire [1:0] alpha_c = alpha_pipe_reg[SQUARE_LATENCY*2-1 -: 2];
wire valid_c = valid_pipe_reg[SQUARE_LATENCY];
wire last_c = last_pipe_reg[SQUARE_LATENCY];
// x^2 = d^2 · 4^alpha: |d| < 2^DATA_WIDTH, so d^2 has 2·DATA_WIDTH bits (the product's top bits are zero).
/* verilator lint_off UNUSEDSIGNAL */
wire signed [SQUARE_WIDTH-1:0] d_sq;
/* verilator lint_on UNUSEDSIGNAL */
wire [XSQ_WIDTH-1:0] xsq_c = {{XSQ_WIDTH-2*DATA_WIDTH{1'b0}}, d_sq[2*DATA_WIDTH-1:0]} << {alpha_c, 1'b0};

ptf_layernorm_square_multiplier square_multiplier_inst (
    .clk(clk),
    .ce(1'b1),
    .a(d_b_reg),
    .b(d_b_reg),
    .p(d_sq)
);
// Running sums of the current token.
reg signed [SUM_WIDTH-1:0] sum_reg = {SUM_WIDTH{1'b0}};
reg [SQ_WIDTH-1:0] sq_reg = {SQ_WIDTH{1'b0}};

wire signed [X_WIDTH-1:0] diff = $signed({{X_WIDTH-DATA_WIDTH{1'b0}}, q_a_reg}) - $signed({{X_WIDTH-DATA_WIDTH{1'b0}}, zero_point});
wire signed [SUM_WIDTH-1:0] sum_next = sum_reg + {{SUM_WIDTH-X_WIDTH{x_c[X_WIDTH-1]}}, x_c};
wire [SQ_WIDTH-1:0] sq_next = sq_reg + {{SQ_WIDTH-XSQ_WIDTH{1'b0}}, xsq_c};

always @(posedge clk) begin
    if (accept) begin
        channel_reg <= last_channel_reg ? {CHANNEL_WIDTH{1'b0}} : channel_reg + 1'b1;
        last_channel_reg <= !last_channel_reg && channel_reg == last_channel_m1;
        first_channel_reg <= last_channel_reg;
        q_a_reg <= beat_data;
    end
    // An early tlast pads the token up to its last channel; a late one (no tlast on the last channel) drops beats up
    // to the next tlast, as does data with no program.
    if (take_input && s_axis_tlast && !last_channel_reg) pad_reg <= 1'b1;
    if (pad_beat && last_channel_reg) pad_reg <= 1'b0;
    if (take_input && !s_axis_tlast && last_channel_reg) drop_reg <= 1'b1;
    if (in_accept && discard) drop_reg <= !s_axis_tlast;
    valid_a_reg <= accept;
    last_a_reg <= last_channel_reg;
    x_b_reg <= diff <<< alpha;
    d_b_reg <= diff[DATA_WIDTH:0];
    alpha_b_reg <= alpha;
    valid_pipe_reg <= {valid_pipe_reg[SQUARE_LATENCY-1:0], valid_a_reg};
    last_pipe_reg <= {last_pipe_reg[SQUARE_LATENCY-1:0], last_a_reg};
    x_pipe_reg <= {x_pipe_reg[(SQUARE_LATENCY-1)*X_WIDTH-1:0], x_b_reg};
    alpha_pipe_reg <= {alpha_pipe_reg[(SQUARE_LATENCY-1)*2-1:0], alpha_b_reg};
    if (m_ready) stats_valid_reg <= 1'b0;
    if (valid_c) begin
        if (last_c) begin
            stats_sum_reg <= sum_next;
            stats_sq_reg <= sq_next;
            stats_valid_reg <= 1'b1;
            sum_reg <= {SUM_WIDTH{1'b0}};
            sq_reg <= {SQ_WIDTH{1'b0}};
        end else begin
            sum_reg <= sum_next;
            sq_reg <= sq_next;
        end
    end
    if (rst) begin
        channel_reg <= {CHANNEL_WIDTH{1'b0}};
        last_channel_reg <= 1'b0;
        first_channel_reg <= 1'b1;
        pad_reg <= 1'b0;
        drop_reg <= 1'b0;
        valid_a_reg <= 1'b0;
        valid_pipe_reg <= {SQUARE_LATENCY+1{1'b0}};
        stats_valid_reg <= 1'b0;
        sum_reg <= {SUM_WIDTH{1'b0}};
        sq_reg <= {SQ_WIDTH{1'b0}};
    end
end

assign m_valid = stats_valid_reg;
assign m_sum = stats_sum_reg;
assign m_sq = stats_sq_reg;

endmodule
`);
}

function emitToken(spec: LayernormSpec): string {
  const d = spec.derived;
  const p = d.precision;
  const w = rtlWidths(spec);
  const F = p.rsqrtBits;
  const g = p.sqrtGuard;
  const radicand = g > 0 ? `{var_reg, {${2 * g}{1'b0}}}` : g === 0 ? 'var_reg' : `var_reg[VAR_WIDTH-1:${-2 * g}]`;
  const wNumerator = w.wShift > 0 ? `{abs_reg, {W_SHIFT{1'b0}}}` : 'abs_reg';
  const countWidth = unsignedWidth(w.absWidth);
  const lowVarBits = g < 0 ? `\n// The radicand drops the ${-2 * g} lowest bits of the normalized variance (floor; the model does the same).` : '';
  return file('ptf_layernorm_token: once per token, var = C·Q - S^2, k, s = isqrt(var·4^(k+G)), R = 2^(2F)/s, W = S·2^(FW+k+G)/s', spec, `module ptf_layernorm_token #(
    // Width of C (up to the largest C the hardware takes)
    parameter COUNT_WIDTH = ${d.countWidth},
    // Signed width of S
    parameter SUM_WIDTH = ${d.sumWidth},
    // Width of Q
    parameter SQ_WIDTH = ${d.sqWidth},
    // Width of |S|
    parameter ABS_WIDTH = ${w.absWidth},
    // Width of C·Q and S^2
    parameter PROD_WIDTH = ${w.prodWidth},
    // Width the variance is normalized to (even)
    parameter VAR_WIDTH = ${p.varWidth},
    // Width of the shift count k
    parameter K_WIDTH = ${d.kWidth},
    // Largest k
    parameter [K_WIDTH-1:0] K_MAX = ${d.kMax},
    // F: significant bits of R
    parameter RSQRT_BITS = ${F},
    // Width of RA = R >> (F - WR)
    parameter RA_WIDTH = ${d.raWidth},
    // FW + G + K_MAX: the W numerator is |S| << W_SHIFT
    parameter W_SHIFT = ${w.wShift},
    // Width of the W quotient
    parameter W_QUOT_WIDTH = ${d.wQuotWidth},
    // Signed width of W
    parameter W_WIDTH = ${d.wWidth}
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      s_valid,
    output wire                      s_ready,
    input  wire signed [SUM_WIDTH-1:0] s_sum,
    input  wire [SQ_WIDTH-1:0]       s_sq,
    // C of the loaded program (constant while tokens are in flight)
    input  wire [COUNT_WIDTH-1:0]    channels,
    output wire                      m_valid,
    input  wire                      m_ready,
    output wire [RA_WIDTH-1:0]       m_ra,
    output wire signed [W_WIDTH-1:0] m_w,
    output wire [K_WIDTH-1:0]        m_k,
    output wire                      m_const
);

// Width of the squaring counter
localparam STEP_WIDTH = ${countWidth};
// Count of the last squaring step (ABS_WIDTH ≥ COUNT_WIDTH steps: C·Q is done by then too)
localparam [STEP_WIDTH-1:0] LAST_STEP = ${countWidth}'d${w.absWidth - 1};

localparam [2:0]
    STATE_IDLE = 3'd0,
    STATE_SQUARE = 3'd1,
    STATE_VARIANCE = 3'd2,
    STATE_NORMALIZE = 3'd3,
    STATE_ROOT = 3'd4,
    STATE_DIVIDE = 3'd5,
    STATE_SCALE = 3'd6,
    STATE_DONE = 3'd7;

reg [2:0] state_reg = STATE_IDLE;
// Second cycles of STATE_VARIANCE (C·Q - S^2 is registered first) and of STATE_SCALE (W's sign, then its shift).
reg phase_reg = 1'b0;
reg [PROD_WIDTH-1:0] variance_reg = {PROD_WIDTH{1'b0}};
// var = 0 (a constant token), found by comparing C·Q with S^2 while their difference is being registered
reg var_zero_reg = 1'b0;
reg signed [W_WIDTH-1:0] w_signed_reg = {W_WIDTH{1'b0}};
reg w_inexact_reg = 1'b0;
reg neg_reg = 1'b0;
reg [ABS_WIDTH-1:0] abs_reg = {ABS_WIDTH{1'b0}};
reg [PROD_WIDTH-1:0] cq_reg = {PROD_WIDTH{1'b0}};
// S^2 by shift and add, one multiplier bit per cycle.
reg [PROD_WIDTH-1:0] mcand_reg = {PROD_WIDTH{1'b0}};
reg [ABS_WIDTH-1:0] mplier_reg = {ABS_WIDTH{1'b0}};
reg [PROD_WIDTH-1:0] square_reg = {PROD_WIDTH{1'b0}};
reg [STEP_WIDTH-1:0] count_reg = {STEP_WIDTH{1'b0}};
// C·Q by shift and add in the same cycles, one bit of C per cycle (C is a run-time value).
reg [PROD_WIDTH-1:0] cq_mcand_reg = {PROD_WIDTH{1'b0}};
reg [COUNT_WIDTH-1:0] cq_mplier_reg = {COUNT_WIDTH{1'b0}};
reg [VAR_WIDTH-1:0] var_reg = {VAR_WIDTH{1'b0}};
reg [K_WIDTH-1:0] k_reg = {K_WIDTH{1'b0}};
reg [K_WIDTH-1:0] norm_count_reg = {K_WIDTH{1'b0}};
reg root_start_reg = 1'b0;
reg div_start_reg = 1'b0;
reg r_done_reg = 1'b0;
reg w_done_reg = 1'b0;
reg [RA_WIDTH-1:0] ra_reg = {RA_WIDTH{1'b0}};
reg signed [W_WIDTH-1:0] w_reg = {W_WIDTH{1'b0}};
reg [K_WIDTH-1:0] k_out_reg = {K_WIDTH{1'b0}};
reg const_reg = 1'b0;

// |S| ≤ C · (2^DATA_WIDTH - 1) · 8 < 2^ABS_WIDTH, so the bits of -S above ABS_WIDTH are not needed.
/* verilator lint_off UNUSEDSIGNAL */
wire signed [SUM_WIDTH-1:0] s_neg = -s_sum;
/* verilator lint_on UNUSEDSIGNAL */
wire [ABS_WIDTH-1:0] s_abs = s_sum[SUM_WIDTH-1] ? s_neg[ABS_WIDTH-1:0] : s_sum[ABS_WIDTH-1:0];
wire [PROD_WIDTH-1:0] variance = cq_reg - square_reg;
wire root_done;
wire [RSQRT_BITS:0] root;
wire r_done;
// R ≤ 2^F; only its top RA_WIDTH bits enter the element pipeline.
/* verilator lint_off UNUSEDSIGNAL */
wire [RSQRT_BITS:0] r_quot;
wire r_inexact;
/* verilator lint_on UNUSEDSIGNAL */
wire w_done;
wire [W_QUOT_WIDTH-1:0] w_quot;
wire w_inexact;
${lowVarBits}
ptf_layernorm_isqrt #(
    .ROOT_WIDTH(RSQRT_BITS + 1)
) isqrt_inst (
    .clk(clk),
    .rst(rst),
    .start(root_start_reg),
    .radicand(${radicand}),
    .done(root_done),
    .root(root)
);

// R = floor(2^(2F) / s): s ≥ 2^F, so R has F + 1 bits.
ptf_layernorm_r_divider r_divider_inst (
    .clk(clk),
    .rst(rst),
    .start(div_start_reg),
    .numerator({1'b1, {2*RSQRT_BITS{1'b0}}}),
    .divisor(root),
    .done(r_done),
    .quotient(r_quot),
    .inexact(r_inexact)
);

// |W| = floor(|S| · 2^(FW + G + K_MAX) / s); the sign and the shift by K_MAX - k follow in STATE_SCALE.
ptf_layernorm_w_divider w_divider_inst (
    .clk(clk),
    .rst(rst),
    .start(div_start_reg),
    .numerator(${wNumerator}),
    .divisor(root),
    .done(w_done),
    .quotient(w_quot),
    .inexact(w_inexact)
);

// floor(S·2^.../s) for a negative S is -(q + inexact) = ~q + !inexact; then floor(·/2^(K_MAX-k)) is an arithmetic shift.
// The increment is a carry-select add (the upper half with and without the lower half's carry): no long carry chain.
localparam W_LOW = (W_WIDTH + 1) / 2;
wire [W_WIDTH-1:0] w_base = {1'b0, w_quot} ^ {W_WIDTH{neg_reg}};
wire [W_LOW:0] w_low = {1'b0, w_base[W_LOW-1:0]} + {{W_LOW{1'b0}}, neg_reg && !w_inexact_reg};
wire [W_WIDTH-W_LOW-1:0] w_high_carry = w_base[W_WIDTH-1:W_LOW] + 1'b1;
wire signed [W_WIDTH-1:0] w_signed = {w_low[W_LOW] ? w_high_carry : w_base[W_WIDTH-1:W_LOW], w_low[W_LOW-1:0]};
wire [K_WIDTH-1:0] w_shift = K_MAX - k_reg;

always @(posedge clk) begin
    root_start_reg <= 1'b0;
    div_start_reg <= 1'b0;
    case (state_reg)
        STATE_IDLE: begin
            if (s_valid) begin
                neg_reg <= s_sum[SUM_WIDTH-1];
                abs_reg <= s_abs;
                cq_reg <= {PROD_WIDTH{1'b0}};
                cq_mcand_reg <= {{PROD_WIDTH-SQ_WIDTH{1'b0}}, s_sq};
                cq_mplier_reg <= channels;
                mcand_reg <= {{PROD_WIDTH-ABS_WIDTH{1'b0}}, s_abs};
                mplier_reg <= s_abs;
                square_reg <= {PROD_WIDTH{1'b0}};
                count_reg <= {STEP_WIDTH{1'b0}};
                state_reg <= STATE_SQUARE;
            end
        end
        STATE_SQUARE: begin
            if (mplier_reg[0]) square_reg <= square_reg + mcand_reg;
            if (cq_mplier_reg[0]) cq_reg <= cq_reg + cq_mcand_reg;
            cq_mcand_reg <= {cq_mcand_reg[PROD_WIDTH-2:0], 1'b0};
            cq_mplier_reg <= {1'b0, cq_mplier_reg[COUNT_WIDTH-1:1]};
            mcand_reg <= {mcand_reg[PROD_WIDTH-2:0], 1'b0};
            mplier_reg <= {1'b0, mplier_reg[ABS_WIDTH-1:1]};
            count_reg <= count_reg + 1'b1;
            if (count_reg == LAST_STEP) state_reg <= STATE_VARIANCE;
        end
        STATE_VARIANCE: begin
            phase_reg <= !phase_reg;
            variance_reg <= variance;
            var_zero_reg <= cq_reg == square_reg;
            var_reg <= variance_reg[VAR_WIDTH-1:0];
            k_reg <= {K_WIDTH{1'b0}};
            norm_count_reg <= {K_WIDTH{1'b0}};
            if (!phase_reg) begin
                state_reg <= STATE_VARIANCE;
            end else if (var_zero_reg) begin
                // A constant token: the element pipeline outputs round(beta / s_out) (M = 0, N = 0, W = 0).
                ra_reg <= {RA_WIDTH{1'b0}};
                w_reg <= {W_WIDTH{1'b0}};
                k_out_reg <= {K_WIDTH{1'b0}};
                const_reg <= 1'b1;
                state_reg <= STATE_DONE;
            end else begin
                state_reg <= STATE_NORMALIZE;
            end
        end
        STATE_NORMALIZE: begin
            // Always K_MAX + 1 cycles, whatever k is, so every token takes the same time (no output bubbles
            // when a slower token follows a faster one).
            if (norm_count_reg == K_MAX) begin
                root_start_reg <= 1'b1;
                state_reg <= STATE_ROOT;
            end else if (var_reg[VAR_WIDTH-1:VAR_WIDTH-2] == 2'b00) begin
                var_reg <= {var_reg[VAR_WIDTH-3:0], 2'b00};
                k_reg <= k_reg + 1'b1;
            end
            norm_count_reg <= norm_count_reg + 1'b1;
        end
        STATE_ROOT: begin
            if (root_done) begin
                div_start_reg <= 1'b1;
                r_done_reg <= 1'b0;
                w_done_reg <= 1'b0;
                state_reg <= STATE_DIVIDE;
            end
        end
        STATE_DIVIDE: begin
            if (r_done) r_done_reg <= 1'b1;
            if (w_done) w_done_reg <= 1'b1;
            // The dividers hold their results once done; the remainder test is registered before W's sign.
            w_inexact_reg <= w_inexact;
            if ((r_done || r_done_reg) && (w_done || w_done_reg)) state_reg <= STATE_SCALE;
        end
        STATE_SCALE: begin
            phase_reg <= !phase_reg;
            w_signed_reg <= w_signed;
            if (phase_reg) begin
                ra_reg <= r_quot[RSQRT_BITS:RSQRT_BITS-RA_WIDTH+1];
                w_reg <= w_signed_reg >>> w_shift;
                k_out_reg <= k_reg;
                const_reg <= 1'b0;
                state_reg <= STATE_DONE;
            end
        end
        default: begin
            if (m_ready) state_reg <= STATE_IDLE;
        end
    endcase
    if (rst) begin
        state_reg <= STATE_IDLE;
        phase_reg <= 1'b0;
        root_start_reg <= 1'b0;
        div_start_reg <= 1'b0;
    end
end

assign s_ready = state_reg == STATE_IDLE;
assign m_valid = state_reg == STATE_DONE;
assign m_ra = ra_reg;
assign m_w = w_reg;
assign m_k = k_out_reg;
assign m_const = const_reg;

endmodule
`);
}

/** A pipeline signal: the name of the register (or wire) holding it at `stage` (cycles after the issue). */
interface Sig {
  name: string;
  width: number;
  signed: boolean;
  stage: number;
}

/** Declarations and clock-enabled assignments of the element pipeline, with delay lines made on demand. */
class Pipeline {
  readonly decls: string[] = [];
  readonly stmts: string[] = [];

  reg(name: string, width: number, signed: boolean, stage: number, expr: string): Sig {
    this.decls.push(`reg ${signed ? 'signed ' : ''}[${width - 1}:0] ${name} = ${width}'${signed ? 's' : ''}d0;`);
    this.stmts.push(`${name} <= ${expr};`);
    return { name, width, signed, stage };
  }

  /** The signal at a later stage (registers in between). */
  at(sig: Sig, stage: number, base = sig.name.replace(/\d*_reg$/, '')): Sig {
    if (stage < sig.stage) throw new Error(`layernorm element: ${sig.name} is needed at stage ${stage} before it exists (${sig.stage})`);
    let s = sig;
    while (s.stage < stage) s = this.reg(`${base}_s${s.stage + 1}_reg`, s.width, s.signed, s.stage + 1, s.name);
    return s;
  }
}

/** Longest carry chain the element pipeline puts in one cycle; wider adds take two. */
export const MAX_CARRY = 50;
/** Slice width of the multipliers' partial products (2: one adder per partial product). */
const CHUNK = 2;

/** PA = |ga| · RA with radix-4 Booth digits of RA; the correction (boothCorrection(RA)) is RA's negative digits. */
function paCorrection(spec: LayernormSpec): { width: number; extWidth: number; expr: string } {
  const bw = spec.derived.raWidth + 1;
  const digits = Math.ceil(bw / 2);
  const bits: string[] = [];
  for (let i = digits - 1; i >= 0; i--) bits.push(`1'b0`, `pa_b_ext[${2 * i + 2}] && !(pa_b_ext[${2 * i + 1}] && pa_b_ext[${2 * i}])`);
  return { width: 2 * digits + 1, extWidth: 2 * digits + 1, expr: `{1'b0, ${bits.join(', ')}}` };
}

function paMultiplierPlan(spec: LayernormSpec): PipelinedMultiplierPlan {
  return pipelinedMultiplierPlan(spec.derived.precision.mantissaA + 1, spec.derived.raWidth + 1, paCorrection(spec).width, CHUNK, MAX_CARRY, true);
}

/** Stage numbers and widths of the element pipeline (cycles after a buffer read is issued). */
export interface ElementPlan {
  ptLatency: number;
  kfWidth: number;
  paLatency: number;
  mxLatency: number;
  mxWidth: number;
  /** Stage of the registered M and N. */
  mnStage: number;
  /** Stage at which Kf and the shift FK − N enter the offset rounding. */
  offsetStage: number;
  /** Stage at which B and ±M·x enter the accumulation. */
  accInStage: number;
  accSplit: boolean;
  /** Stage of the output register: the pipeline's length. */
  stages: number;
}

export function elementPlan(spec: LayernormSpec): ElementPlan {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const pt = pipelinedMultiplierPlan(d.wWidth, d.gtWidth, kfAddendWidth(spec), CHUNK, MAX_CARRY, true);
  const pa = paMultiplierPlan(spec);
  const mx = pipelinedMultiplierPlan(d.xWidth, 9, 0, 5, MAX_CARRY);
  const mnStage = 3 + pa.latency;
  const offsetStage = Math.max(2 + pt.latency, mnStage + 1);
  const accInStage = Math.max(offsetStage + 2, mnStage + mx.latency);
  const accSplit = w.accWidth > MAX_CARRY;
  const accStage = accInStage + (accSplit ? 2 : 1);
  return {
    ptLatency: pt.latency, kfWidth: pt.productWidth, paLatency: pa.latency, mxLatency: mx.latency, mxWidth: mx.productWidth,
    mnStage, offsetStage, accInStage, accSplit, stages: accStage + 4,
  };
}

function emitElement(spec: LayernormSpec): string {
  const d = spec.derived;
  const p = d.precision;
  const w = rtlWidths(spec);
  const plan = elementPlan(spec);
  const WG = p.mantissaA;
  const paTop = d.paWidth - 1;
  const ACC = w.accWidth;
  const L = spec.bits + 2;
  const pipe = new Pipeline();
  // Stage 1: the buffered code and the constants (block RAM outputs) and the token's scalars.
  const word1: Sig = { name: 'const_word', width: constWidth(spec), signed: false, stage: 1 };
  const ra1: Sig = { name: 'ra1_reg', width: d.raWidth, signed: false, stage: 1 };
  const w1: Sig = { name: 'w1_reg', width: d.wWidth, signed: true, stage: 1 };
  const k1: Sig = { name: 'k1_reg', width: d.kWidth, signed: false, stage: 1 };
  const const1: Sig = { name: 'const1_reg', width: 1, signed: false, stage: 1 };
  // Stage 2: the multiplier operands, registered (a block RAM output is slow), and x.
  const bk2 = pipe.reg('bk2_reg', kfAddendWidth(spec), true, 2, `${word1.name}[CONST_WIDTH-1 -: BK_WIDTH]`);
  const ngt2 = pipe.reg('ngt2_reg', d.gtWidth, true, 2, `${word1.name}[CONST_WIDTH-BK_WIDTH-1 -: GT_WIDTH]`);
  const na2 = pipe.reg('na2_reg', d.nAWidth, true, 2, `${word1.name}[GA_WIDTH+4+NA_WIDTH-1 -: NA_WIDTH]`);
  const gz2 = pipe.reg('gamma_zero2_reg', 1, false, 2, `${word1.name}[GA_WIDTH+2]`);
  const ga2 = pipe.reg('ga2_reg', WG, false, 2, `${word1.name}[GA_WIDTH+1:2]`);
  const ra2 = pipe.at(ra1, 2);
  const paCorr = paCorrection(spec);
  const paCorr2 = pipe.reg('pa_corr2_reg', paCorr.width, true, 2, paCorr.expr);
  const w2 = pipe.at(w1, 2);
  const x2 = pipe.reg('x2_reg', d.xWidth, true, 2, `diff1 <<< c_alpha`);
  const neg2 = pipe.reg('neg2_reg', 1, false, 2, 'c_neg');
  // Stage 3: sign(gamma)·x.
  const nx3 = pipe.reg('nx3_reg', d.xWidth, true, 3, `${neg2.name} ? -${x2.name} : ${x2.name}`);
  // M and N.
  const mnIn = plan.mnStage - 1;
  const paTopSig = pipe.at({ name: `pa[${paTop}:${paTop - 8}]`, width: 9, signed: false, stage: 2 + plan.paLatency }, mnIn, 'pa_top');
  const naSig = pipe.at(na2, mnIn, 'na');
  const gzSig = pipe.at(gz2, mnIn, 'gamma_zero');
  const kSig = pipe.at(k1, mnIn);
  const constSig = pipe.at(const1, mnIn);
  const m = pipe.reg('m_reg', 8, false, plan.mnStage, 'mn_m');
  const n = pipe.reg('n_reg', 5, false, plan.mnStage, 'mn_n');
  const kshift = pipe.reg('kshift_reg', w.kShiftWidth, false, plan.mnStage + 1, `FRAC_K[KSHIFT_WIDTH-1:0] - {{KSHIFT_WIDTH-5{1'b0}}, ${n.name}}`);
  // B: Kf and its shift enter the offset rounding together.
  const kfIn = pipe.at({ name: 'kf', width: plan.kfWidth, signed: true, stage: 2 + plan.ptLatency }, plan.offsetStage);
  const kshiftIn = pipe.at(kshift, plan.offsetStage);
  // ±M·x.
  const nxIn = pipe.at(nx3, plan.mnStage);
  const mx = pipe.at({ name: 'mx', width: plan.mxWidth, signed: true, stage: plan.mnStage + plan.mxLatency }, plan.accInStage);
  const qB = pipe.at({ name: 'b_floor', width: d.offsetWidth, signed: true, stage: plan.offsetStage + 2 }, plan.accInStage);
  const ruB = pipe.at({ name: 'b_round_up', width: 1, signed: false, stage: plan.offsetStage + 2 }, plan.accInStage);
  // acc = B + ±M·x (B = floor + round-up, the round-up as the carry in).
  const bExt = `{{${ACC - d.offsetWidth}{${qB.name}[${d.offsetWidth - 1}]}}, ${qB.name}}`;
  const mxExt = `{{${ACC - plan.mxWidth}{${mx.name}[${plan.mxWidth - 1}]}}, ${mx.name}}`;
  let acc: Sig;
  if (!plan.accSplit) {
    acc = pipe.reg('acc_reg', ACC, true, plan.accInStage + 1, `${bExt} + ${mxExt} + {{${ACC - 1}{1'b0}}, ${ruB.name}}`);
  } else {
    const h = Math.ceil(ACC / 2);
    pipe.decls.push(`wire [${ACC - 1}:0] acc_b = ${bExt};`, `wire [${ACC - 1}:0] acc_mx = ${mxExt};`);
    const lo = pipe.reg('acc_lo_reg', h + 1, false, plan.accInStage + 1, `{1'b0, acc_b[${h - 1}:0]} + {1'b0, acc_mx[${h - 1}:0]} + {{${h}{1'b0}}, ${ruB.name}}`);
    const hb = pipe.reg('acc_hb_reg', ACC - h, false, plan.accInStage + 1, `acc_b[${ACC - 1}:${h}]`);
    const hm = pipe.reg('acc_hm_reg', ACC - h, false, plan.accInStage + 1, `acc_mx[${ACC - 1}:${h}]`);
    acc = pipe.reg('acc_reg', ACC, true, plan.accInStage + 2, `{${hb.name} + ${hm.name} + {{${ACC - h - 1}{1'b0}}, ${lo.name}[${h}]}, ${lo.name}[${h - 1}:0]}`);
  }
  const nY = pipe.at(n, acc.stage);
  // y = floor + round-up; the clamp only needs y's low L bits and whether the rest are sign copies.
  const yStage = acc.stage + 2;
  const fits = pipe.reg('fits_reg', 1, false, yStage + 1, `y_floor[${ACC - 1}:${L - 1}] == {${ACC - L + 1}{1'b0}} || y_floor[${ACC - 1}:${L - 1}] == {${ACC - L + 1}{1'b1}}`);
  const ylow = pipe.reg('y_low_reg', L, true, yStage + 1, `y_floor[${L - 1}:0]`);
  const yneg = pipe.reg('y_neg_reg', 1, false, yStage + 1, `y_floor[${ACC - 1}]`);
  const yru = pipe.reg('y_round_up_reg', 1, false, yStage + 1, 'y_round_up');
  if (yStage + 2 !== plan.stages) throw new Error('layernorm element: stage plan mismatch');
  pipe.decls.push(`wire signed [${L}:0] code = {${ylow.name}[${L - 1}], ${ylow.name}} + out_zp + $signed({{${L}{1'b0}}, ${yru.name}});`);
  const outExpr = `!${fits.name} ? (${yneg.name} ? {DATA_WIDTH{1'b0}} : {DATA_WIDTH{1'b1}}) : code < 0 ? {DATA_WIDTH{1'b0}} : code > CODE_MAX ? {DATA_WIDTH{1'b1}} : code[DATA_WIDTH-1:0]`;

  return file('ptf_layernorm_element: per element M, N, B and y = round((±M·x + B) / 2^N), clamped with the output zero point', spec, `module ptf_layernorm_element #(
    // Width of one code
    parameter DATA_WIDTH = ${spec.bits},
    // Width of the channel counter
    parameter CHANNEL_WIDTH = ${d.channelWidth},
    // Signed width of x
    parameter X_WIDTH = ${d.xWidth},
    // Width of RA
    parameter RA_WIDTH = ${d.raWidth},
    // Width of the |ga| mantissa
    parameter GA_WIDTH = ${WG},
    // Signed width of W
    parameter W_WIDTH = ${d.wWidth},
    // Width of k
    parameter K_WIDTH = ${d.kWidth},
    // Signed widths of -gt, bk and nA in the constant RAM
    parameter GT_WIDTH = ${d.gtWidth},
    parameter BK_WIDTH = ${kfAddendWidth(spec)},
    parameter NA_WIDTH = ${d.nAWidth},
    // Width of one constant-RAM word
    parameter CONST_WIDTH = ${constWidth(spec)},
    // Signed width of Kf = bk - W·gt (the multiplier's product)
    parameter KF_WIDTH = ${plan.kfWidth},
    // FK: fraction bits of Kf
    parameter FRAC_K = ${p.fracK},
    // Width of the shift FK - N
    parameter KSHIFT_WIDTH = ${w.kShiftWidth},
    // Signed width of B
    parameter OFFSET_WIDTH = ${d.offsetWidth},
    // Signed width of ±M·x
    parameter MX_WIDTH = ${plan.mxWidth},
    // Signed width of ±M·x + B and of y
    parameter ACC_WIDTH = ${ACC},
    // Pipeline length: issue to output register
    parameter STAGES = ${plan.stages}
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      scal_valid,
    output wire                      scal_ready,
    input  wire [RA_WIDTH-1:0]       scal_ra,
    input  wire signed [W_WIDTH-1:0] scal_w,
    input  wire [K_WIDTH-1:0]        scal_k,
    input  wire                      scal_const,
    // The program (ptf_layernorm_config): C - 2, the zero points, the constant-RAM write port
    input  wire [CHANNEL_WIDTH-1:0]  last_channel_m1,
    input  wire [DATA_WIDTH-1:0]     zero_point,
    input  wire [DATA_WIDTH-1:0]     out_zero_point,
    input  wire                      const_wr_en,
    input  wire [CHANNEL_WIDTH-1:0]  const_wr_addr,
    input  wire [CONST_WIDTH-1:0]    const_wr_data,
    input  wire                      buf_empty,
    output wire                      buf_rd_en,
    input  wire [DATA_WIDTH-1:0]     buf_rd_data,
    output wire [DATA_WIDTH-1:0]     m_axis_tdata,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready,
    output wire                      m_axis_tlast
);

// Largest output code, and the output zero point, as signed L + 1 bit values (L = DATA_WIDTH + 2)
localparam signed [${L}:0] CODE_MAX = ${L + 1}'sd${(1 << spec.bits) - 1};
wire signed [${L}:0] out_zp = $signed({3'b000, out_zero_point});

// valid and last of each stage 1 .. STAGES (the output register is stage STAGES).
reg [STAGES:1] valid_reg = {STAGES{1'b0}};
reg [STAGES:1] last_reg = {STAGES{1'b0}};
reg [DATA_WIDTH-1:0] out_data_reg = {DATA_WIDTH{1'b0}};
// The whole pipeline advances together whenever the output register can move.
wire ce = !valid_reg[STAGES] || m_axis_tready;

// The scalars of the token being issued.
reg cur_valid_reg = 1'b0;
reg [RA_WIDTH-1:0] cur_ra_reg = {RA_WIDTH{1'b0}};
reg signed [W_WIDTH-1:0] cur_w_reg = {W_WIDTH{1'b0}};
reg [K_WIDTH-1:0] cur_k_reg = {K_WIDTH{1'b0}};
reg cur_const_reg = 1'b0;
reg [CHANNEL_WIDTH-1:0] channel_reg = {CHANNEL_WIDTH{1'b0}};
// channel_reg == C - 1, kept in a register (it decides the token handshake)
reg channel_last_reg = 1'b0;

wire issue = ce && cur_valid_reg && !buf_empty;
wire issue_last = issue && channel_last_reg;
assign scal_ready = !cur_valid_reg || issue_last;
assign buf_rd_en = issue;

wire [CONST_WIDTH-1:0] const_word;

ptf_layernorm_const_ram #(
    .WIDTH(CONST_WIDTH),
    .ADDR_WIDTH(CHANNEL_WIDTH),
    .DEPTH(${spec.maxChannels})
) const_ram_inst (
    .clk(clk),
    .wr_en(const_wr_en),
    .wr_addr(const_wr_addr),
    .wr_data(const_wr_data),
    .rd_en(issue),
    .rd_addr(channel_reg),
    .rd_data(const_word)
);

// Stage 1: the token's scalars travel along with the block RAM reads.
reg [RA_WIDTH-1:0] ra1_reg = {RA_WIDTH{1'b0}};
reg signed [W_WIDTH-1:0] w1_reg = {W_WIDTH{1'b0}};
reg [K_WIDTH-1:0] k1_reg = {K_WIDTH{1'b0}};
reg const1_reg = 1'b0;

// Constant-RAM word: {bk, -gt, nA, sign_neg, gamma_zero, |ga|, alpha}.
wire c_neg = const_word[GA_WIDTH+3];
wire [1:0] c_alpha = const_word[1:0];
wire signed [X_WIDTH-1:0] diff1 = $signed({{X_WIDTH-DATA_WIDTH{1'b0}}, buf_rd_data}) - $signed({{X_WIDTH-DATA_WIDTH{1'b0}}, zero_point});

${pipe.decls.filter((x) => !x.startsWith('wire')).join('\n')}

// Kf = bk + W·(-gt) (stage ${2 + plan.ptLatency}).
wire signed [KF_WIDTH-1:0] kf;

ptf_layernorm_kf_multiplier kf_multiplier_inst (
    .clk(clk),
    .ce(ce),
    .a(${w2.name}),
    .b(${ngt2.name}),
    .c(${bk2.name}),
    .p(kf)
);

// PA = RA·|ga| (stage ${2 + plan.paLatency}); PA < 2^(WR + WG), so the product's top bits are zero and only the 9
// bits below them decide M (floor) and δ.
/* verilator lint_off UNUSEDSIGNAL */
wire signed [${paMultiplierPlan(spec).productWidth - 1}:0] pa;
/* verilator lint_on UNUSEDSIGNAL */

// Booth digits of RA (a per-token operand: its correction is computed here from RA's bits, no ROM needed).
wire [${paCorr.extWidth - 1}:0] pa_b_ext = {${paCorr.extWidth - d.raWidth - 1}'d0, ra1_reg, 1'b0};

ptf_layernorm_pa_multiplier pa_multiplier_inst (
    .clk(clk),
    .ce(ce),
    .a({1'b0, ${ga2.name}}),
    .b({1'b0, ${ra2.name}}),
    .c(${paCorr2.name}),
    .p(pa)
);

// M and N (registered at stage ${plan.mnStage}).
wire [7:0] mn_m;
wire [4:0] mn_n;

ptf_layernorm_mn mn_inst (
    .pa_top(${paTopSig.name}),
    .na(${naSig.name}),
    .k(${kSig.name}),
    .gamma_zero(${gzSig.name}),
    .const_token(${constSig.name}),
    .m(mn_m),
    .n(mn_n)
);

// ±M·x = M·(sign·x) (stage ${plan.mnStage + plan.mxLatency}).
wire signed [MX_WIDTH-1:0] mx;

ptf_layernorm_mx_multiplier mx_multiplier_inst (
    .clk(clk),
    .ce(ce),
    .a(${nxIn.name}),
    .b({1'b0, ${m.name}}),
    .p(mx)
);

// B = round(Kf · 2^N / 2^FK) as floor + round-up (stage ${plan.offsetStage + 2}).
wire signed [OFFSET_WIDTH-1:0] b_floor;
wire b_round_up;

ptf_layernorm_offset_round offset_round_inst (
    .clk(clk),
    .ce(ce),
    .value(${kfIn.name}),
    .shift(${kshiftIn.name}),
    .floor_q(b_floor),
    .round_up(b_round_up)
);

${pipe.decls.filter((x) => x.startsWith('wire')).join('\n')}

// y = round(acc / 2^N) as floor + round-up (stage ${yStage}).
wire signed [ACC_WIDTH-1:0] y_floor;
wire y_round_up;

ptf_layernorm_output_round output_round_inst (
    .clk(clk),
    .ce(ce),
    .value(${acc.name}),
    .shift(${nY.name}),
    .floor_q(y_floor),
    .round_up(y_round_up)
);

// The output: y + zero point, clamped; a y outside L = DATA_WIDTH + 2 signed bits is beyond either end of the range.
always @(posedge clk) begin
    if (scal_valid && scal_ready) begin
        cur_valid_reg <= 1'b1;
        cur_ra_reg <= scal_ra;
        cur_w_reg <= scal_w;
        cur_k_reg <= scal_k;
        cur_const_reg <= scal_const;
    end else if (issue_last) begin
        cur_valid_reg <= 1'b0;
    end
    if (issue) begin
        channel_reg <= issue_last ? {CHANNEL_WIDTH{1'b0}} : channel_reg + 1'b1;
        channel_last_reg <= !channel_last_reg && channel_reg == last_channel_m1;
    end
    if (ce) begin
        valid_reg <= {valid_reg[STAGES-1:1], issue};
        last_reg <= {last_reg[STAGES-1:1], issue_last};
        ra1_reg <= cur_ra_reg;
        w1_reg <= cur_w_reg;
        k1_reg <= cur_k_reg;
        const1_reg <= cur_const_reg;
        ${pipe.stmts.join('\n        ')}
        out_data_reg <= ${outExpr};
    end
    if (rst) begin
        cur_valid_reg <= 1'b0;
        channel_reg <= {CHANNEL_WIDTH{1'b0}};
        channel_last_reg <= 1'b0;
        valid_reg <= {STAGES{1'b0}};
    end
end

assign m_axis_tdata = out_data_reg;
assign m_axis_tvalid = valid_reg[STAGES];
assign m_axis_tlast = last_reg[STAGES];

endmodule
`);
}

/** Bits of status_error, in order (the manifest lists them with their meaning). */
export const STATUS_ERRORS = [
  { name: 'config', meaning: 'a program word out of range (header C outside 8..max_channels, a channel word whose nA is outside the derived range or with both sign and gamma-zero set) or a program whose tlast is not on word C (header + C channel words); the program is not loaded (tokens after it are discarded and set bit 2) until a good program arrives' },
  { name: 'token_length', meaning: 'a token whose s_axis_tlast is not on its C-th beat. Early tlast: the token is completed with the input zero point in its missing channels (x = 0 there) and output as C codes. Late (no tlast on beat C): the first C beats are output as a token, the beats after them are discarded up to and including the next tlast. The next token starts after that tlast' },
  { name: 'no_program', meaning: 'an s_axis beat accepted with no program loaded (after reset, or after a bad program): it is discarded, and so is every beat up to and including the next tlast; nothing is output for them' },
] as const;

/** The run-time program's word layout: a header word, then one word per channel. */
export function programLayout(spec: LayernormSpec): { header: ProgramFormat; channel: ProgramFormat; wordWidth: number; naLsb: number } {
  const d = spec.derived;
  const cw = d.channelWidth;
  const WG = d.precision.mantissaA;
  const bkW = kfAddendWidth(spec);
  const header: ProgramField[] = [
    { name: 'last_channel', lsb: 0, width: cw, meaning: `C − 1 of the layer (C from 8 to ${spec.maxChannels})` },
    { name: 'zero_point', lsb: cw, width: spec.bits, meaning: 'input zero point' },
    { name: 'out_zero_point', lsb: cw + spec.bits, width: spec.bits, meaning: 'output zero point' },
  ];
  const naLsb = WG + 4;
  const channel: ProgramField[] = [
    { name: 'alpha', lsb: 0, width: 2, meaning: 'PTF power-of-two factor of the channel' },
    { name: 'ga', lsb: 2, width: WG, meaning: '|ga|: mantissa of |C·gamma/out_scale| (0 when gamma = 0)' },
    { name: 'gamma_zero', lsb: WG + 2, width: 1, meaning: 'gamma = 0' },
    { name: 'sign_neg', lsb: WG + 3, width: 1, meaning: 'gamma < 0' },
    { name: 'na', lsb: naLsb, width: d.nAWidth, meaning: `nA, two's complement, from ${d.nAMin} to ${d.nAMax}` },
    { name: 'neg_gt', lsb: naLsb + d.nAWidth, width: d.gtWidth, meaning: "−gt = −round(gamma/out_scale·2^FG), two's complement" },
    { name: 'bk', lsb: naLsb + d.nAWidth + d.gtWidth, width: bkW, meaning: "round(beta/out_scale·2^FK) + the Booth correction of −gt, two's complement" },
  ];
  const wordWidth = Math.max(constWidth(spec), cw + 2 * spec.bits);
  const order = 'word 0 is the header (fields header.*); words 1 .. C are the channels 0 .. C − 1 in order (fields channel.*); tlast on word C and on no other';
  return {
    header: { wordWidth, fields: header, order },
    channel: { wordWidth, fields: channel, order },
    wordWidth,
    naLsb,
  };
}

/** The program of the spec's layer: computed from the same constants the golden model uses (spec.constants). */
export function layernormProgram(spec: LayernormSpec): Program {
  const layout = programLayout(spec);
  const d = spec.derived;
  // The hardware refuses a channel word whose nA is outside the derived range: a program of ours never has one.
  spec.constants.forEach((ch, c) => {
    if (ch.nA < d.nAMin || ch.nA > d.nAMax) throw new Error(`layernorm: channel ${c} has nA = ${ch.nA}, outside the derived ${d.nAMin}..${d.nAMax} (a bug of the width derivation)`);
  });
  const header = packWord(layout.header, { last_channel: spec.channels - 1, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint });
  const format: ProgramFormat = {
    wordWidth: layout.wordWidth,
    fields: [...layout.header.fields.map((f) => ({ ...f, name: `header.${f.name}` })), ...layout.channel.fields.map((f) => ({ ...f, name: `channel.${f.name}` }))],
    order: layout.header.order,
  };
  return {
    format,
    words: [header, ...constWords(spec)],
    values: { channels: spec.channels, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint, constants: spec.constants },
  };
}

function emitConfig(spec: LayernormSpec): string {
  const d = spec.derived;
  const layout = programLayout(spec);
  // Range checks, leaving out a bound the field's width already keeps (a constant comparison).
  const cw = d.channelWidth;
  const naLit = (v: number) => `${v < 0 ? '-' : ''}${d.nAWidth}'sd${Math.abs(v)}`;
  const hdrChecks = [`hdr_last < ${cw}'d${CHANNELS_MIN - 1}`, ...(spec.maxChannels - 1 < 2 ** cw - 1 ? [`hdr_last > ${cw}'d${spec.maxChannels - 1}`] : [])];
  const naChecks = [
    ...(d.nAMin > -(2 ** (d.nAWidth - 1)) ? [`word_na < ${naLit(d.nAMin)}`] : []),
    ...(d.nAMax < 2 ** (d.nAWidth - 1) - 1 ? [`word_na > ${naLit(d.nAMax)}`] : []),
  ];
  return file('ptf_layernorm_config: loads a program from s_cfg_axis (header: C, zero points; then one constant word per channel)', spec, `module ptf_layernorm_config #(
    // Width of one code
    parameter DATA_WIDTH = ${spec.bits},
    // Width of the channel index, and of C
    parameter CHANNEL_WIDTH = ${d.channelWidth},
    parameter COUNT_WIDTH = ${d.countWidth},
    // Width of a program word, and of a channel's constant word
    parameter CFG_WIDTH = ${layout.wordWidth},
    parameter CONST_WIDTH = ${constWidth(spec)},
    // nA in the channel word: its lowest bit and its width
    parameter NA_LSB = ${layout.naLsb},
    parameter NA_WIDTH = ${d.nAWidth}
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [CFG_WIDTH-1:0]     s_cfg_axis_tdata,
    input  wire                     s_cfg_axis_tvalid,
    output wire                     s_cfg_axis_tready,
    input  wire                     s_cfg_axis_tlast,
    // The block holds no data: a program may be taken
    input  wire                     idle,
    // A program is being loaded, or offered while idle: s_axis waits
    output wire                     busy,
    output wire                     programmed,
    output wire [CHANNEL_WIDTH-1:0] last_channel_m1,
    output wire [COUNT_WIDTH-1:0]   channels,
    output wire [DATA_WIDTH-1:0]    zero_point,
    output wire [DATA_WIDTH-1:0]    out_zero_point,
    // One channel's words into the RAMs
    output wire                     wr_en,
    output wire [CHANNEL_WIDTH-1:0] wr_addr,
    output wire [CONST_WIDTH-1:0]   wr_data,
    // Pulse: a bad word or a program of the wrong length
    output wire                     err_config
);

reg loading_reg = 1'b0;
reg programmed_reg = 1'b0;
// The program has failed a check: its remaining words are not written, and it does not become the loaded program.
reg bad_reg = 1'b0;
reg [CHANNEL_WIDTH-1:0] word_reg = {CHANNEL_WIDTH{1'b0}};
reg [CHANNEL_WIDTH-1:0] last_channel_reg = {CHANNEL_WIDTH{1'b0}};
reg [CHANNEL_WIDTH-1:0] last_channel_m1_reg = {CHANNEL_WIDTH{1'b0}};
reg [COUNT_WIDTH-1:0] channels_reg = {COUNT_WIDTH{1'b0}};
reg [DATA_WIDTH-1:0] zero_point_reg = {DATA_WIDTH{1'b0}};
reg [DATA_WIDTH-1:0] out_zero_point_reg = {DATA_WIDTH{1'b0}};

assign s_cfg_axis_tready = idle;
assign busy = loading_reg || (s_cfg_axis_tvalid && idle);
wire accept = s_cfg_axis_tvalid && idle;
wire header = accept && !loading_reg;
wire channel_word = accept && loading_reg;

// Header checks: C from ${CHANNELS_MIN} to ${spec.maxChannels}.
wire [CHANNEL_WIDTH-1:0] hdr_last = s_cfg_axis_tdata[CHANNEL_WIDTH-1:0];
wire hdr_bad = ${hdrChecks.join(' || ')};
// Channel word checks: nA from ${d.nAMin} to ${d.nAMax}, gamma = 0 with no sign.
wire signed [NA_WIDTH-1:0] word_na = s_cfg_axis_tdata[NA_LSB +: NA_WIDTH];
wire word_bad = ${[...naChecks, '(s_cfg_axis_tdata[NA_LSB-1] && s_cfg_axis_tdata[NA_LSB-2])'].join(' || ')};
wire end_by_count = word_reg == last_channel_reg;

assign wr_en = channel_word && !bad_reg && !word_bad;
assign wr_addr = word_reg;
assign wr_data = s_cfg_axis_tdata[CONST_WIDTH-1:0];
assign err_config = (header && (hdr_bad || s_cfg_axis_tlast))
    || (channel_word && !bad_reg && (word_bad || s_cfg_axis_tlast != end_by_count));

always @(posedge clk) begin
    if (header) begin
        // A new program replaces the loaded one; none is loaded until it is complete and good.
        programmed_reg <= 1'b0;
        loading_reg <= !s_cfg_axis_tlast;
        bad_reg <= hdr_bad;
        word_reg <= {CHANNEL_WIDTH{1'b0}};
        last_channel_reg <= hdr_last;
        last_channel_m1_reg <= hdr_last - 1'b1;
        channels_reg <= {{COUNT_WIDTH-CHANNEL_WIDTH{1'b0}}, hdr_last} + 1'b1;
        zero_point_reg <= s_cfg_axis_tdata[CHANNEL_WIDTH +: DATA_WIDTH];
        out_zero_point_reg <= s_cfg_axis_tdata[CHANNEL_WIDTH+DATA_WIDTH +: DATA_WIDTH];
    end
    if (channel_word) begin
        word_reg <= word_reg + 1'b1;
        if (word_bad || (end_by_count && !s_cfg_axis_tlast)) bad_reg <= 1'b1;
        if (s_cfg_axis_tlast) begin
            loading_reg <= 1'b0;
            programmed_reg <= !bad_reg && !word_bad && end_by_count;
        end
    end
    if (rst) begin
        loading_reg <= 1'b0;
        programmed_reg <= 1'b0;
        bad_reg <= 1'b0;
    end
end

assign programmed = programmed_reg;
assign last_channel_m1 = last_channel_m1_reg;
assign channels = channels_reg;
assign zero_point = zero_point_reg;
assign out_zero_point = out_zero_point_reg;

endmodule
`);
}

function emitTop(spec: LayernormSpec): string {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const layout = programLayout(spec);
  const inflightWidth = w.bufferAddrWidth + 2;
  return file('ptf_layernorm: PTF LayerNorm (FQ-ViT, integer-only); the layer is a program loaded through s_cfg_axis', spec, `module ${TOP} (
    input  wire                  clk,
    input  wire                  rst,
    // The layer's program: a header word (C - 1, zero points), then one word per channel; tlast on the last.
    input  wire [${layout.wordWidth - 1}:0]         s_cfg_axis_tdata,
    input  wire                  s_cfg_axis_tvalid,
    output wire                  s_cfg_axis_tready,
    input  wire                  s_cfg_axis_tlast,
    // Tokens of C codes; tokens are framed by counting C beats, and a tlast elsewhere is an error (status_error[1]).
    input  wire [${spec.bits - 1}:0]         s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output wire [${spec.bits - 1}:0]         m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast,
    // Sticky until rst: [0] bad program, [1] token length, [2] data with no program (see the manifest)
    output wire [${STATUS_ERRORS.length - 1}:0]            status_error
);

// Fixed by the generator (the widths follow from them): not parameters a user could override.
localparam DATA_WIDTH = ${spec.bits};
localparam CHANNEL_WIDTH = ${d.channelWidth};
localparam COUNT_WIDTH = ${d.countWidth};
localparam CONST_WIDTH = ${constWidth(spec)};
// Tokens accepted (first beat in) and not yet output (last beat out): at most one per buffered code or pipeline stage.
localparam INFLIGHT_WIDTH = ${inflightWidth};

wire buf_full;
wire buf_empty;
wire buf_wr_en;
wire [DATA_WIDTH-1:0] buf_wr_data;
wire buf_rd_en;
wire [DATA_WIDTH-1:0] buf_rd_data;
wire stats_valid;
wire stats_ready;
wire signed [${d.sumWidth - 1}:0] stats_sum;
wire [${d.sqWidth - 1}:0] stats_sq;
wire scal_valid;
wire scal_ready;
wire [${d.raWidth - 1}:0] scal_ra;
wire signed [${d.wWidth - 1}:0] scal_w;
wire [${d.kWidth - 1}:0] scal_k;
wire scal_const;
wire cfg_busy;
wire programmed;
wire [CHANNEL_WIDTH-1:0] last_channel_m1;
wire [COUNT_WIDTH-1:0] channels;
wire [DATA_WIDTH-1:0] zero_point;
wire [DATA_WIDTH-1:0] out_zero_point;
wire cfg_wr_en;
wire [CHANNEL_WIDTH-1:0] cfg_wr_addr;
wire [CONST_WIDTH-1:0] cfg_wr_data;
wire token_start;
wire err_config;
wire err_length;
wire err_unprogrammed;

// The block is idle (a program may be loaded) when every token it took has been output.
reg [INFLIGHT_WIDTH-1:0] inflight_reg = {INFLIGHT_WIDTH{1'b0}};
reg idle_reg = 1'b1;
wire token_done = m_axis_tvalid && m_axis_tready && m_axis_tlast;
wire [INFLIGHT_WIDTH-1:0] inflight_next = inflight_reg + {{INFLIGHT_WIDTH-1{1'b0}}, token_start} - {{INFLIGHT_WIDTH-1{1'b0}}, token_done};
reg [${STATUS_ERRORS.length - 1}:0] status_error_reg = ${STATUS_ERRORS.length}'d0;

always @(posedge clk) begin
    inflight_reg <= inflight_next;
    idle_reg <= inflight_next == {INFLIGHT_WIDTH{1'b0}};
    status_error_reg <= status_error_reg | {err_unprogrammed, err_length, err_config};
    if (rst) begin
        inflight_reg <= {INFLIGHT_WIDTH{1'b0}};
        idle_reg <= 1'b1;
        status_error_reg <= ${STATUS_ERRORS.length}'d0;
    end
end

assign status_error = status_error_reg;

// idle_reg is low from the cycle after a token's first beat; in that first cycle busy (s_cfg_axis_tvalid) holds the
// beat back, so a program word and a data beat are never taken together.
ptf_layernorm_config config_inst (
    .clk(clk),
    .rst(rst),
    .s_cfg_axis_tdata(s_cfg_axis_tdata),
    .s_cfg_axis_tvalid(s_cfg_axis_tvalid),
    .s_cfg_axis_tready(s_cfg_axis_tready),
    .s_cfg_axis_tlast(s_cfg_axis_tlast),
    .idle(idle_reg),
    .busy(cfg_busy),
    .programmed(programmed),
    .last_channel_m1(last_channel_m1),
    .channels(channels),
    .zero_point(zero_point),
    .out_zero_point(out_zero_point),
    .wr_en(cfg_wr_en),
    .wr_addr(cfg_wr_addr),
    .wr_data(cfg_wr_data),
    .err_config(err_config)
);

ptf_layernorm_stats stats_inst (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(s_axis_tdata),
    .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .programmed(programmed),
    .cfg_busy(cfg_busy),
    .last_channel_m1(last_channel_m1),
    .zero_point(zero_point),
    .alpha_wr_en(cfg_wr_en),
    .alpha_wr_addr(cfg_wr_addr),
    .alpha_wr_data(cfg_wr_data[1:0]),
    .token_start(token_start),
    .err_length(err_length),
    .err_unprogrammed(err_unprogrammed),
    .buf_full(buf_full),
    .buf_wr_en(buf_wr_en),
    .buf_wr_data(buf_wr_data),
    .m_valid(stats_valid),
    .m_ready(stats_ready),
    .m_sum(stats_sum),
    .m_sq(stats_sq)
);

ptf_layernorm_buffer #(
    .DATA_WIDTH(DATA_WIDTH),
    .ADDR_WIDTH(${w.bufferAddrWidth})
) buffer_inst (
    .clk(clk),
    .rst(rst),
    .wr_en(buf_wr_en),
    .wr_data(buf_wr_data),
    .full(buf_full),
    .rd_en(buf_rd_en),
    .rd_data(buf_rd_data),
    .empty(buf_empty)
);

${w.tokenUnits === 1 ? `ptf_layernorm_token token_inst (
    .clk(clk),
    .rst(rst),
    .s_valid(stats_valid),
    .s_ready(stats_ready),
    .s_sum(stats_sum),
    .s_sq(stats_sq),
    .channels(channels),
    .m_valid(scal_valid),
    .m_ready(scal_ready),
    .m_ra(scal_ra),
    .m_w(scal_w),
    .m_k(scal_k),
    .m_const(scal_const)
);` : twoTokenUnits(spec)}

ptf_layernorm_element element_inst (
    .clk(clk),
    .rst(rst),
    .scal_valid(scal_valid),
    .scal_ready(scal_ready),
    .scal_ra(scal_ra),
    .scal_w(scal_w),
    .scal_k(scal_k),
    .scal_const(scal_const),
    .last_channel_m1(last_channel_m1),
    .zero_point(zero_point),
    .out_zero_point(out_zero_point),
    .const_wr_en(cfg_wr_en),
    .const_wr_addr(cfg_wr_addr),
    .const_wr_data(cfg_wr_data),
    .buf_empty(buf_empty),
    .buf_rd_en(buf_rd_en),
    .buf_rd_data(buf_rd_data),
    .m_axis_tdata(m_axis_tdata),
    .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule
`);
}

/**
 * Two token units taking alternate tokens (a token unit's time exceeds C): tokens enter unit 0, 1, 0, ... and their
 * scalars leave in the same order, so short tokens stream without waiting for one unit.
 */
function twoTokenUnits(spec: LayernormSpec): string {
  const d = spec.derived;
  const units = [0, 1].map((u) => `wire token${u}_s_ready;
wire token${u}_m_valid;
wire [${d.raWidth - 1}:0] token${u}_ra;
wire signed [${d.wWidth - 1}:0] token${u}_w;
wire [${d.kWidth - 1}:0] token${u}_k;
wire token${u}_const;

ptf_layernorm_token token${u}_inst (
    .clk(clk),
    .rst(rst),
    .s_valid(stats_valid && ${u ? '' : '!'}in_sel_reg),
    .s_ready(token${u}_s_ready),
    .s_sum(stats_sum),
    .s_sq(stats_sq),
    .channels(channels),
    .m_valid(token${u}_m_valid),
    .m_ready(scal_ready && ${u ? '' : '!'}out_sel_reg),
    .m_ra(token${u}_ra),
    .m_w(token${u}_w),
    .m_k(token${u}_k),
    .m_const(token${u}_const)
);
`).join('\n');
  return `// The unit that takes the next token's sums, and the unit whose scalars go out next.
reg in_sel_reg = 1'b0;
reg out_sel_reg = 1'b0;

${units}
assign stats_ready = in_sel_reg ? token1_s_ready : token0_s_ready;
assign scal_valid = out_sel_reg ? token1_m_valid : token0_m_valid;
assign scal_ra = out_sel_reg ? token1_ra : token0_ra;
assign scal_w = out_sel_reg ? token1_w : token0_w;
assign scal_k = out_sel_reg ? token1_k : token0_k;
assign scal_const = out_sel_reg ? token1_const : token0_const;

always @(posedge clk) begin
    if (stats_valid && stats_ready) in_sel_reg <= !in_sel_reg;
    if (scal_valid && scal_ready) out_sel_reg <= !out_sel_reg;
    if (rst) begin
        in_sel_reg <= 1'b0;
        out_sel_reg <= 1'b0;
    end
end
`;
}

/** Cycles of the token unit for one token, worst case (largest k), without waiting for the element pipeline. */
export function tokenUnitCycles(spec: LayernormSpec): number {
  const d = spec.derived;
  const w = { absWidth: absWidthOf(spec) };
  // idle→square, square (ABS_WIDTH), variance (2), normalize (K_MAX + 1), root and divide (their steps, plus the start
  // pulse and the done pulse registers each), scale (2), done
  return 1 + w.absWidth + 2 + (d.kMax + 1) + (d.rootWidth + 2) + (Math.max(d.rootWidth, d.wQuotWidth) + 2) + 2 + 1;
}

/**
 * Steady-state cycles per U tokens of C channels (U = token units, taking alternate tokens), back to back with no
 * stalls: max(U·C, T) with T = tokenUnitCycles: U·C at one element per cycle, or a token unit's time when that is
 * longer (short tokens: the token unit, not the stream, sets the pace). Measured exactly by test/layernorm-rtl.test.ts.
 */
export function cyclesPerTokenGroup(spec: LayernormSpec, channels = spec.channels): number {
  return Math.max(rtlWidths(spec).tokenUnits * channels, tokenUnitCycles(spec));
}

/** Steady-state cycles per token (the average over a group of token units: may be a half). */
export function cyclesPerToken(spec: LayernormSpec, channels = spec.channels): number {
  return cyclesPerTokenGroup(spec, channels) / rtlWidths(spec).tokenUnits;
}

/** Steady-state elements per cycle for tokens of C channels: U·C / max(U·C, T) (1 when U·C ≥ T). */
export function elementsPerCycle(spec: LayernormSpec, channels = spec.channels): number {
  return channels / cyclesPerToken(spec, channels);
}

/** Base names of the block's modules (each file is named after its module); every one gets the spec's prefix. */
export const MODULE_BASES = [
  TOP, 'ptf_layernorm_config', 'ptf_layernorm_stats', 'ptf_layernorm_buffer', 'ptf_layernorm_token', 'ptf_layernorm_element',
  'ptf_layernorm_isqrt', 'ptf_layernorm_r_divider', 'ptf_layernorm_w_divider', 'ptf_layernorm_mn', 'ptf_layernorm_kf_multiplier',
  'ptf_layernorm_square_multiplier', 'ptf_layernorm_pa_multiplier', 'ptf_layernorm_mx_multiplier', 'ptf_layernorm_offset_round',
  'ptf_layernorm_output_round', 'ptf_layernorm_alpha_ram', 'ptf_layernorm_const_ram',
] as const;

/** The top module's name with the spec's prefix. */
export function topName(spec: LayernormSpec): string {
  return moduleName(spec.prefix, TOP);
}

/** Gives every module base name in a text the spec's prefix (module declarations, instances, headers). */
function prefixModules(spec: LayernormSpec, text: string): string {
  if (spec.prefix === '') return text;
  return text.replace(/\bptf_layernorm(_[a-z_]+)?\b/g, (name) => ((MODULE_BASES as readonly string[]).includes(name) ? moduleName(spec.prefix, name) : name));
}

/**
 * All modules of the block, by file name. They depend only on the hardware parameters (bits, max_channels,
 * rsqrt_bits, prefix): every layer those allow runs on the same bytes, its program loaded at run time.
 */
export function emitLayernormRtl(spec: LayernormSpec): FileSet {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const files: FileSet = new Map();
  const put = (name: string, text: string) => files.set(`${moduleName(spec.prefix, name)}.v`, prefixModules(spec, text));
  put(TOP, emitTop(spec));
  put('ptf_layernorm_config', emitConfig(spec));
  put('ptf_layernorm_stats', emitStats(spec));
  put('ptf_layernorm_buffer', emitBuffer(spec));
  put('ptf_layernorm_token', emitToken(spec));
  put('ptf_layernorm_element', emitElement(spec));
  put('ptf_layernorm_isqrt', emitIsqrt(d.rootWidth));
  put('ptf_layernorm_r_divider', emitDivider(2 * spec.rsqrtBits + 1, d.rootWidth, d.rootWidth, 'ptf_layernorm_r_divider'));
  put('ptf_layernorm_w_divider', emitDivider(d.wNumWidth, d.rootWidth, d.wQuotWidth, 'ptf_layernorm_w_divider'));
  put('ptf_layernorm_mn', emitMn(d.nAWidth, d.kWidth));
  const plan = elementPlan(spec);
  put('ptf_layernorm_kf_multiplier', emitPipelinedMultiplier(d.wWidth, d.gtWidth, kfAddendWidth(spec), CHUNK, MAX_CARRY, 'ptf_layernorm_kf_multiplier', true));
  put('ptf_layernorm_square_multiplier', emitPipelinedMultiplier(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY, 'ptf_layernorm_square_multiplier'));
  put('ptf_layernorm_pa_multiplier', emitPipelinedMultiplier(d.precision.mantissaA + 1, d.raWidth + 1, paCorrection(spec).width, CHUNK, MAX_CARRY, 'ptf_layernorm_pa_multiplier', true));
  put('ptf_layernorm_mx_multiplier', emitPipelinedMultiplier(d.xWidth, 9, 0, 5, MAX_CARRY, 'ptf_layernorm_mx_multiplier'));
  put('ptf_layernorm_offset_round', emitRoundShiftPipelined(plan.kfWidth, w.kShiftWidth, d.offsetWidth, 'ptf_layernorm_offset_round'));
  put('ptf_layernorm_output_round', emitRoundShiftPipelined(w.accWidth, 5, w.accWidth, 'ptf_layernorm_output_round'));
  put('ptf_layernorm_alpha_ram', emitRam(spec, 'ptf_layernorm_alpha_ram', 'alpha per channel, written by the program'));
  put('ptf_layernorm_const_ram', emitRam(spec, 'ptf_layernorm_const_ram', 'the constants of each channel {bk + Booth correction of -gt, -gt, nA, sign_neg, gamma_zero, |ga|, alpha}, written by the program'));
  return files;
}

/** The manifest (common/manifest.ts): the same schema as every block. */
export function layernormManifest(spec: LayernormSpec, files: FileSet, latencyCycles: number): string {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const layout = programLayout(spec);
  const program = layernormProgram(spec);
  const T = tokenUnitCycles(spec);
  const manifest: BlockManifest = {
    block: 'layernorm',
    top: topName(spec),
    prefix: spec.prefix,
    files: [...files.keys()].sort(),
    parameters: [],
    spec: { ...specSummary(spec), default_layer: { channels: spec.channels, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint, out_scale: spec.layer.outScale, in_scale_min: spec.layer.inScaleMin, calibrated: spec.calibrated, alpha: spec.layer.alpha, gamma: spec.layer.gamma, beta: spec.layer.beta } },
    derived: {
      ...d,
      layer_range: `C from 8 to ${spec.maxChannels}; zero points 0..${2 ** spec.bits - 1}; alpha 0..3; |gamma/out_scale| and |beta/out_scale| below 2^${scaleRatioLog2(spec.bits)}; every width above is the worst case over these (no overflow anywhere); nA above ${d.nAMax} saturates to it (M = 0 either way)`,
      rounding: 'round half to even (B, y); floor (M, W, R, s); the output clamps to 0 .. 2^bits − 1',
      rtl: { ...w, kfAddendWidth: kfAddendWidth(spec), constWidth: constWidth(spec), element: elementPlan(spec) },
      token_unit_cycles: T,
    },
    latency: {
      cycles: latencyCycles,
      formula: `C − 1 + ${statsStages(spec)} (stats) + ${T} (token unit) + ${elementPlan(spec).stages} (element pipeline), first input beat to first output beat, no stalls; value for the default layer's C = ${spec.channels}`,
    },
    throughput: {
      elements_per_cycle: elementsPerCycle(spec),
      unit: 'output elements per cycle, back-to-back tokens, no stalls',
      condition: `U·C / max(U·C, T) for back-to-back tokens of C channels, with T = ${T} cycles (the token unit's time per token) and U = ${w.tokenUnits} token unit${w.tokenUnits > 1 ? 's' : ''}: one element per cycle when C ≥ ${Math.ceil(T / w.tokenUnits)}, below that ${w.tokenUnits}·C/${T}; value for the default layer's C = ${spec.channels}`,
    },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: layout.wordWidth, meaning: 'the layer program (program.order); tready only while the block holds no token; tlast on the last word' },
      s_axis: { direction: 'in', tdata: spec.bits, meaning: 'input codes, C per token in channel order; tlast on channel C − 1 (checked: status_error[1])' },
      m_axis: { direction: 'out', tdata: spec.bits, meaning: 'output codes clamp(y + out_zero_point, 0, 2^bits − 1), C per token; tlast on channel C − 1' },
    },
    errors: STATUS_ERRORS.map((e, bit) => ({ bit, name: e.name, meaning: e.meaning })),
    program: { ...program.format, file: 'program/default.hex' },
  };
  return manifestJson(manifest);
}
