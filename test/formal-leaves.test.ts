// Formal proofs of the arithmetic leaf units of every block, at small widths, for ALL inputs: each unit (from its
// block's own emitter) against a plain behavioural reference written here, independently of the implementation
// (wide integer arithmetic, quotients and remainders, loops; no masks, no bit tricks). Units with registers are
// proven by bounded model checking from reset (see generators/common/formal.ts); input contracts the units document
// are the references' assume() statements.
import { describe, expect, it } from 'vitest';
import { unsignedWidth } from '../generators/common/arith.ts';
import type { FileSet } from '../generators/common/files.ts';
import { proveEquivalent, type ProofOptions } from '../generators/common/formal.ts';
import { emitPe, emitRequantSerial } from '../generators/gemm/rtl.ts';
import { PE_PRODUCT_STAGES, requantSerialStages } from '../generators/gemm/spec.ts';
import { emitDivider, emitIsqrt, emitMn, emitRoundShiftPipelined } from '../generators/layernorm/leaves.ts';
import { softmaxProgram } from '../generators/softmax/program.ts';
import { resolveSoftmax } from '../generators/softmax/spec.ts';
import { EXP_LATENCY, LOG2_ROUND_LATENCY, emitExpUnit, emitLog2RoundSerialUnit, emitLog2RoundUnit, log2RoundSerialCycles } from '../generators/softmax/units.ts';

async function expectProof(impl: FileSet, top: string, ref: string, options: ProofOptions = {}, refTop = top): Promise<void> {
  const r = await proveEquivalent(impl, top, ref, refTop, options);
  expect(r.summary).toMatch(/^proven/);
}

/** N registers behind a value: the reference's latency, matching a pipeline of N stages. */
function delayLine(name: string, width: number, input: string, stages: number, enable = '1\'b1'): string {
  return `reg [${width - 1}:0] ${name}_pipe [0:${stages - 1}];
integer ${name}_i;
initial for (${name}_i = 0; ${name}_i < ${stages}; ${name}_i = ${name}_i + 1) ${name}_pipe[${name}_i] = 0;
always @(posedge clk) if (${enable}) begin
    ${name}_pipe[0] <= ${input};
    for (${name}_i = 1; ${name}_i < ${stages}; ${name}_i = ${name}_i + 1) ${name}_pipe[${name}_i] <= ${name}_pipe[${name}_i - 1];
end`;
}

// A bit-serial unit's result is meaningful when `done` pulses: both sides show it only then.
const observed = (unit: string, ports: string, outputs: Array<[string, number]>) => `module observed (
    input  wire clk,
    input  wire rst,
    input  wire start,
${ports}
    output wire done,
${outputs.map(([name, width]) => `    output wire [${width - 1}:0] ${name}_when_done`).join(',\n')}
);
${outputs.map(([name, width]) => `wire [${width - 1}:0] ${name};`).join('\n')}
${unit}
${outputs.map(([name, width]) => `assign ${name}_when_done = done ? ${name} : ${width}'d0;`).join('\n')}
endmodule
`;

/** done pulses `steps` cycles after the cycle of start (start again restarts; rst stops), with `result` then. */
const serialRef = (steps: number, capture: string, result: string, outputs: Array<[string, number]>, ports: string, contract: string) => `module observed (
    input  wire clk,
    input  wire rst,
    input  wire start,
${ports}
    output reg  done,
${outputs.map(([name, width]) => `    output wire [${width - 1}:0] ${name}_when_done`).join(',\n')}
);
integer left = 0;
${capture}
initial done = 1'b0;
${contract === '1' ? '' : `always @* assume(!start || (${contract}));`}
always @(posedge clk) begin
    done <= 1'b0;
    if (start) begin
        left <= ${steps};
        capture_inputs;
    end else if (left != 0) begin
        left <= left - 1;
        if (left == 1) done <= 1'b1;
    end
    if (rst) begin
        left <= 0;
        done <= 1'b0;
    end
end
${result}
endmodule
`;

describe('GEMM leaf units', () => {
  // The serial requantizer takes an element when in_valid and in_ready, is busy for the other cycles of its M (in_ready
  // low), and gives the element's code `requantSerialStages` enabled cycles after the take. Its code and last are
  // meaningful with out_valid: both sides show them only then.
  type RequantParams = { accWidth: number; fracBits: number; shiftWidth: number; offsetWidth: number; sumWidth: number; outBits: number; chunkDigits: number };
  /** The proof of a requantizer text (the emitted one, or a mutant) at parameters p against the reference. */
  async function proveRequant(p: RequantParams, text = emitRequantSerial(p)) {
    const chunkDigits = p.chunkDigits;
    // Cycles a code: chunks of 2 * chunkDigits bits of M, the last zero-padded
    const cycles = Math.ceil(p.fracBits / (2 * chunkDigits));
    const stages = requantSerialStages(chunkDigits, cycles);
    // Wide enough for every acc * M + B (sumWidth bits) and for 2^S at the largest shift, with a sign bit to spare
    const W = Math.max(p.sumWidth, 2 ** p.shiftWidth) + 2;
    const ports = `    input  wire clk,
    input  wire rst,
    input  wire enable,
    input  wire in_valid,
    input  wire in_last,
    input  wire signed [${p.accWidth - 1}:0] in_acc,
    input  wire [${p.fracBits - 1}:0] in_mult,
    input  wire [${p.shiftWidth - 1}:0] in_shift,
    input  wire signed [${p.offsetWidth - 1}:0] in_offset,
    output wire in_ready,
    output wire out_valid,
    output wire out_last_when_valid,
    output wire [${p.outBits - 1}:0] out_code_when_valid`;
    const observedUnit = `module observed (
${ports}
);
wire out_last;
wire [${p.outBits - 1}:0] out_code;
gemm_requant_serial #(.CHUNK_DIGITS(${chunkDigits})) unit_inst (
    .clk(clk), .rst(rst), .enable(enable), .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last), .in_acc(in_acc),
    .in_mult(in_mult), .in_shift(in_shift), .in_offset(in_offset), .out_valid(out_valid), .out_last(out_last), .out_code(out_code)
);
assign out_last_when_valid = out_valid && out_last;
assign out_code_when_valid = out_valid ? out_code : ${p.outBits}'d0;
endmodule
`;
    const ref = `module observed (
${ports}
);
reg signed [${W - 1}:0] acc, mult, offset, s, q, r, half, rounded;
reg [${p.outBits - 1}:0] code;
always @* begin
    acc = in_acc;
    mult = {1'b0, in_mult};
    offset = in_offset;
    s = acc * mult + offset;
    q = s >>> in_shift;
    r = s - (q <<< in_shift);
    half = (${W}'sd1 <<< in_shift) >>> 1;
    rounded = (in_shift != 0 && (r > half || (r == half && q[0]))) ? q + 1 : q;
    if (rounded < 0) code = 0;
    else if (rounded > ${2 ** p.outBits - 1}) code = ${2 ** p.outBits - 1};
    else code = rounded[${p.outBits - 1}:0];
end
// Busy for the ${cycles - 1} enabled cycles after a take
integer busy_left = 0;
assign in_ready = enable && busy_left == 0;
wire take = in_valid && in_ready;
always @(posedge clk) begin
    if (enable) begin
        if (take) busy_left <= ${cycles - 1};
        else if (busy_left != 0) busy_left <= busy_left - 1;
    end
    if (rst) busy_left <= 0;
end
${delayLine('code', p.outBits, 'code', stages, 'enable')}
${delayLine('last', 1, 'in_last', stages, 'enable')}
reg [${stages - 1}:0] valid_reg = 0;
always @(posedge clk) begin
    if (enable) valid_reg <= {valid_reg, take};
    if (rst) valid_reg <= 0;
end
assign out_valid = valid_reg[${stages - 1}];
assign out_last_when_valid = out_valid && last_pipe[${stages - 1}];
assign out_code_when_valid = out_valid ? code_pipe[${stages - 1}] : ${p.outBits}'d0;
endmodule
`;
    const impl: FileSet = new Map([['gemm_requant_serial.v', text], ['observed.v', observedUnit]]);
    // Deep enough for an element taken in the first cycle to leave, and a second taken as soon as in_ready allows
    return proveEquivalent(impl, 'observed', ref, 'observed', { depth: stages + cycles + 1 });
  }

  it.each([
    // M in two chunks of one digit, the second zero-padded (2 cycles a code; the offset and shift held in one register
    // from the last chunk, which the chunk pipeline's 2 stages just allow); shifts below 8: one slice
    { accWidth: 3, fracBits: 3, shiftWidth: 3, offsetWidth: 4, sumWidth: 10, outBits: 2, chunkDigits: 1 },
    // M in one chunk (1 cycle a code; offset and shift travel beside the chunk); shifts of 8 and more take the second
    // slice and the OR of the group below it
    { accWidth: 3, fracBits: 3, shiftWidth: 4, offsetWidth: 10, sumWidth: 16, outBits: 2, chunkDigits: 2 },
    // Shifts to 31, past the sum's 12 bits (code 0 or from the sign alone), slices over the zero padding
    { accWidth: 3, fracBits: 4, shiftWidth: 5, offsetWidth: 11, sumWidth: 12, outBits: 3, chunkDigits: 1 },
  ])('gemm_requant_serial equals clamp(round_half_even((acc * M + B) / 2^S)), requantSerialStages enabled cycles after it takes the element (frac_bits $fracBits, $chunkDigits digits a cycle, shift width $shiftWidth)', async (p) => {
    expect((await proveRequant(p)).summary).toMatch(/^proven/);
  });

  // Mutants the proof must catch: rounding half up; the offset's chunk entering a stage before M's chunk of its weight
  it.each([
    ['rounds half up', '(sticky || quotient_code[0])', '1\'b1'],
    ['takes the offset\'s chunk a stage early', 'offset_pipe_reg[(CHUNK_STAGES-2)*CHUNK_BITS +: CHUNK_BITS]', 'offset_taps[(CHUNK_STAGES-2)*CHUNK_BITS +: CHUNK_BITS]'],
  ])('a gemm_requant_serial that %s fails the same proof', async (_what, from, to) => {
    const p = { accWidth: 3, fracBits: 4, shiftWidth: 5, offsetWidth: 11, sumWidth: 12, outBits: 3, chunkDigits: 1 };
    const text = emitRequantSerial(p);
    const mutant = text.replace(from, to);
    expect(mutant).not.toBe(text);
    expect((await proveRequant(p, mutant)).summary).toMatch(/^not proven.*counterexample/);
  });

  it.each([[3, 3], [2, 4]])('gemm_pe (a %i bits, w %i bits) accumulates products a * w over K runs and holds the finished sum (BMC, 8 cycles)', async (aWidth, wWidth) => {
    const p = { aWidth, wWidth, accWidth: 8 };
    const ref = `module gemm_pe (
    input  wire clk,
    input  wire signed [${p.aWidth - 1}:0] a,
    input  wire signed [${p.wWidth - 1}:0] w,
    input  wire acc_en,
    input  wire acc_first,
    input  wire acc_last,
    output wire signed [${p.accWidth - 1}:0] result
);
// The product of the operands PE_PRODUCT_STAGES (${PE_PRODUCT_STAGES}) cycles earlier, then a running sum restarted by acc_first.
integer product_pipe [0:${PE_PRODUCT_STAGES - 1}];
integer sum = 0;
integer held = 0;
integer next, i;
initial for (i = 0; i < ${PE_PRODUCT_STAGES}; i = i + 1) product_pipe[i] = 0;
always @(posedge clk) begin
    product_pipe[0] <= a * w;
    for (i = 1; i < ${PE_PRODUCT_STAGES}; i = i + 1) product_pipe[i] <= product_pipe[i - 1];
    next = (acc_first ? 0 : sum) + product_pipe[${PE_PRODUCT_STAGES - 1}];
    if (acc_en) begin
        sum <= next;
        if (acc_last) held <= next;
    end
end
assign result = held[${p.accWidth - 1}:0];
endmodule
`;
    await expectProof(new Map([['gemm_pe.v', emitPe(p)]]), 'gemm_pe', ref, { depth: 8 });
  });
});

describe('softmax leaf units', () => {
  // The exp unit is a table RAM written by the program: the implementation is the generated unit loaded with the
  // program the generator builds for the layer (one word per cycle from reset), then free distances every cycle.
  it.each([[3, 30, 1, 1], [4, 6, 0.5, 0.5], [4, 6, 0.5, 1]])('softmax_exp (in_bits %i, n %i, range from s = %f) loaded with the program of s = %f equals FQ-ViT\'s i-exp formula for every distance', async (inBits, n, minScale, scale) => {
    const spec = resolveSoftmax(inBits, { n, min_scale: minScale, scale, max_length: 2 });
    const constants = spec.constants;
    const depth = spec.range.tableDepth;
    const { elemWidth: eWidth, zWidth, shiftWidth, wordWidth, tableAddrWidth } = spec.derived;
    const words = softmaxProgram(spec).words;
    const unit = emitExpUnit({ dWidth: inBits, depth, zWidth, mWidth: shiftWidth, eWidth, spec: { inBits, n, minScale } });
    const countWidth = unsignedWidth(depth);
    const loaded = `module exp_loaded (
    input  wire clk,
    input  wire [${inBits - 1}:0] d,
    output wire [${eWidth - 1}:0] e
);
reg [${countWidth - 1}:0] count = 0;
reg [${wordWidth - 1}:0] word;
wire loading = count < ${depth};
always @* begin
    case (count)
${words.map((w, i) => `        ${i}: word = ${wordWidth}'d${w};`).join('\n')}
        default: word = 0;
    endcase
end
always @(posedge clk) if (loading) count <= count + 1;
softmax_exp unit (.clk(clk), .wr_en(loading), .wr_addr(count[${tableAddrWidth - 1}:0]), .wr_data(word), .d(d), .e(e));
endmodule
`;
    const W = eWidth + 8;
    const ref = `module softmax_exp (
    input  wire clk,
    input  wire [${inBits - 1}:0] d,
    output wire [${eWidth - 1}:0] e
);
localparam signed [${W - 1}:0] B = ${constants.b};
localparam signed [${W - 1}:0] C = ${constants.c};
localparam signed [${W - 1}:0] X0 = -${-constants.x0};
localparam signed [${W - 1}:0] N = ${constants.n};
reg signed [${W - 1}:0] x, k, r, z;
reg [${W - 1}:0] e_wide;
// x = max(-d, n * x0); k = floor(x / x0) (both negative: truncation is the floor); r = x - x0 * k;
// z = max(r * (r + b) + c, 0); e = z * 2^(n - k).
always @* begin
    x = -$signed({1'b0, d});
    if (x < N * X0) x = N * X0;
    k = x / X0;
    r = x - X0 * k;
    z = r * (r + B) + C;
    if (z < 0) z = 0;
    e_wide = z << (N - k);
end
${delayLine('e', eWidth, `e_wide[${eWidth - 1}:0]`, EXP_LATENCY)}
assign e = e_pipe[${EXP_LATENCY - 1}];
endmodule
`;
    // The table is complete after `depth` cycles; from then on every output comes from free distances.
    const skip = depth + EXP_LATENCY;
    await expectProof(new Map([['softmax_exp.v', unit], ['exp_loaded.v', loaded]]), 'exp_loaded', ref, { depth: skip + 2, skip }, 'softmax_exp');
  });

  /** code_now and zero_now from `sum` and `elem` (registers or ports of these widths), by division: the reference. */
  const log2Reference = (sumWidth: number, outBits: number, sum: string, elem: string) => {
    const top = 2 ** outBits - 1;
    const W = sumWidth + 3;
    return `reg [${W - 1}:0] q, r, y;
integer t, i;
reg zero_now;
reg [${outBits - 1}:0] code_now;
always @* begin
    // y = round_half_even(E / e); t = floor(log2 y), plus one when y - 2^t >= 2^(t-1) (log_round(0) = 0).
    q = ${sum} / ${elem};
    r = ${sum} % ${elem};
    y = q + ((2 * r > ${elem} || (2 * r == ${elem} && q[0])) ? 1 : 0);
    t = 0;
    for (i = 0; i < ${W}; i = i + 1) if (y[i]) t = i;
    if (y != 0 && 2 * (y - (1 << t)) >= (1 << t)) t = t + 1;
    if (${elem} == 0 || t > ${top}) begin
        zero_now = 1'b1;
        code_now = ${top};
    end else begin
        zero_now = 1'b0;
        code_now = t;
    end
end`;
  };

  it.each([[7, 4, 3], [6, 3, 4]])('softmax_log2_round (pipelined; sum %i bits, elem %i bits, code %i bits) equals log_round(round_half_even(E / e)) for every E and e', async (sumWidth, elemWidth, outBits) => {
    const impl = emitLog2RoundUnit({ sumWidth, elemWidth, outBits, spec: { sumWidth, elemWidth, outBits } });
    const latency = LOG2_ROUND_LATENCY;
    const ref = `module softmax_log2_round (
    input  wire clk,
    input  wire [${sumWidth - 1}:0] sum,
    input  wire [${elemWidth - 1}:0] elem,
    output wire [${outBits - 1}:0] code,
    output wire zero
);
${log2Reference(sumWidth, outBits, 'sum', 'elem')}
${delayLine('code', outBits, 'code_now', latency)}
${delayLine('zero', 1, 'zero_now', latency)}
assign code = code_pipe[${latency - 1}];
assign zero = zero_pipe[${latency - 1}];
endmodule
`;
    await expectProof(new Map([['softmax_log2_round.v', impl]]), 'softmax_log2_round', ref, { depth: latency + 2, skip: latency });
  });

  // The serial unit: code and zero when done, log2RoundSerialCycles after start, for every E and e and every
  // start/rst sequence (a start while busy begins again; the softmax never does that). X = 3e·2^k outgrows A's width
  // by its shifts in the first three; in [5, 5, 3] (E no wider than e) already 4e + 2e carries out; in [9, 4, 2] never.
  it.each([[7, 4, 3], [6, 3, 4], [5, 5, 3], [9, 4, 2]])('softmax_log2_round (serial; sum %i bits, elem %i bits, code %i bits) equals log_round(round_half_even(E / e)) when done (BMC)', async (sumWidth, elemWidth, outBits) => {
    const cycles = log2RoundSerialCycles(outBits);
    const unit = `softmax_log2_round softmax_log2_round_inst (.clk(clk), .rst(rst), .start(start), .sum(sum), .elem(elem), .done(done), .code(code), .zero(zero));`;
    const ports = `    input  wire [${sumWidth - 1}:0] sum,\n    input  wire [${elemWidth - 1}:0] elem,`;
    const outputs: Array<[string, number]> = [['code', outBits], ['zero', 1]];
    const impl: FileSet = new Map([['softmax_log2_round.v', emitLog2RoundSerialUnit({ sumWidth, elemWidth, outBits, spec: { sumWidth, elemWidth, outBits } })], ['observed.v', observed(unit, ports, outputs)]]);
    const ref = serialRef(cycles - 1,
      `reg [${sumWidth - 1}:0] e_sum = 0;\nreg [${elemWidth - 1}:0] e_elem = 0;\ntask capture_inputs; begin e_sum <= sum; e_elem <= elem; end endtask`,
      `${log2Reference(sumWidth, outBits, 'e_sum', 'e_elem')}\nassign code_when_done = done ? code_now : ${outBits}'d0;\nassign zero_when_done = done ? zero_now : 1'b0;`,
      outputs, ports, '1');
    await expectProof(impl, 'observed', ref, { depth: cycles + 3 });
  });
});

describe('LayerNorm leaf units', () => {
  // The two-cycle rounding shifter the element pipeline uses (offset and output rounding): floor and round-up bit,
  // for every value and every shift, including shifts past the coarse multiple of 8 and past IN_WIDTH.
  it.each([[6, 4, 6], [10, 5, 7]])('round shift, two cycles (IN %i, SHIFT_WIDTH %i, OUT %i): floor and round-up of round half to even, with clock enable', async (inWidth, shiftWidth, outWidth) => {
    const impl = emitRoundShiftPipelined(inWidth, shiftWidth, outWidth, 'ptf_layernorm_round_split');
    const ref = `module ptf_layernorm_round_split (
    input  wire clk,
    input  wire ce,
    input  wire signed [${inWidth - 1}:0] value,
    input  wire [${shiftWidth - 1}:0] shift,
    output wire signed [${outWidth - 1}:0] floor_q,
    output wire round_up
);
reg signed [63:0] v, q, r, half;
reg up;
always @* begin
    v = value;
    q = v >>> shift;
    r = v - (q <<< shift);
    half = (64'sd1 <<< shift) >>> 1;
    up = shift != 0 && (r > half || (r == half && q[0]));
    // The unit's contract: the floor fits OUT_WIDTH (the caller's width derivation).
    assume(q >= -(64'sd1 <<< ${outWidth - 1}) && q < (64'sd1 <<< ${outWidth - 1}));
end
${delayLine('floor', outWidth, `q[${outWidth - 1}:0]`, 2, 'ce')}
${delayLine('up', 1, 'up', 2, 'ce')}
assign floor_q = floor_pipe[1];
assign round_up = up_pipe[1];
endmodule
`;
    await expectProof(new Map([['ptf_layernorm_round_split.v', impl]]), 'ptf_layernorm_round_split', ref, { depth: 4, skip: 2 });
  });

  it.each([[7, 44], [6, 44], [7, 60], [6, 31], [5, 44]])('M/N unit (NK_WIDTH %i, FK %i) equals FQ-ViT\'s get_MN with its clamps, and gives FK − N, one enabled cycle later', async (nkWidth, fracK) => {
    const impl = emitMn(nkWidth, fracK);
    const kshiftWidth = unsignedWidth(fracK);
    const ref = `module ptf_layernorm_mn (
    input  wire clk,
    input  wire ce,
    input  wire [8:0] pa_top,
    input  wire signed [${nkWidth - 1}:0] nk,
    input  wire gamma_zero,
    input  wire const_token,
    output wire [7:0] m,
    output wire [4:0] n,
    output wire [${kshiftWidth - 1}:0] kshift
);
integer delta, nu, mu;
reg [7:0] m_now;
reg [4:0] n_now;
always @* begin
    // The unit's contract: PA's leading one is bit 8 or bit 7, and nA - k - delta fits NK_WIDTH signed bits.
    assume(pa_top[8] || pa_top[7]);
    delta = pa_top[8];
    nu = nk;
    nu = nu - delta;
    assume(nu >= -${2 ** (nkWidth - 1)} && nu < ${2 ** (nkWidth - 1)});
    mu = delta ? pa_top / 2 : pa_top;
    if (const_token) begin
        m_now = 0;
        n_now = 0;
    end else if (gamma_zero) begin
        m_now = 0;
        n_now = 31;
    end else if (nu < 0) begin
        m_now = 255;
        n_now = 0;
    end else if (nu > 31) begin
        m_now = mu >> (nu - 31);
        n_now = 31;
    end else begin
        m_now = mu;
        n_now = nu;
    end
end
${delayLine('m', 8, 'm_now', 1, 'ce')}
${delayLine('n', 5, 'n_now', 1, 'ce')}
${delayLine('kshift', kshiftWidth, `${fracK} - n_now`, 1, 'ce')}
assign m = m_pipe[0];
assign n = n_pipe[0];
assign kshift = kshift_pipe[0];
endmodule
`;
    await expectProof(new Map([['ptf_layernorm_mn.v', impl]]), 'ptf_layernorm_mn', ref, { depth: 3, skip: 1 });
  });


  it.each([[4], [5]])('integer square root (ROOT_WIDTH %i) gives floor(sqrt(radicand)) when done, for every radicand and start/rst sequence (BMC)', async (rootWidth) => {
    const unit = `ptf_layernorm_isqrt ptf_layernorm_isqrt_inst (.clk(clk), .rst(rst), .start(start), .radicand(radicand), .done(done), .root(root));`;
    const ports = `    input  wire [${2 * rootWidth - 1}:0] radicand,`;
    const impl: FileSet = new Map([['ptf_layernorm_isqrt.v', emitIsqrt(rootWidth)], ['observed.v', observed(unit, ports, [['root', rootWidth]])]]);
    const ref = serialRef(rootWidth,
      `integer x = 0;\ntask capture_inputs; x <= radicand; endtask`,
      `integer s, root;\nalways @* begin\n    root = 0;\n    for (s = 0; s < ${2 ** rootWidth}; s = s + 1) if (s * s <= x) root = s;\nend\nassign root_when_done = done ? root[${rootWidth - 1}:0] : ${rootWidth}'d0;`,
      [['root', rootWidth]], ports, '1');
    await expectProof(impl, 'observed', ref, { depth: rootWidth + 4 });
  });

  // held: the form whose caller holds the divisor from start through done, a start meanwhile included (the serial
  // token unit's: it starts the next division the cycle after done); the reference then assumes that of its input
  it.each([[7, 4, 4, false], [8, 4, 4, false], [6, 5, 3, false], [7, 4, 4, true], [6, 5, 3, true]])('divider (NUM %i, DEN %i, QUOT %i bits, held divisor %s) gives floor(numerator / divisor) and inexact when done (BMC)', async (numWidth, denWidth, quotWidth, held) => {
    const unit = `ptf_layernorm_divider ptf_layernorm_divider_inst (.clk(clk), .rst(rst), .start(start), .numerator(numerator), .divisor(divisor), .done(done), .quotient(quotient), .inexact(inexact));`;
    const ports = `    input  wire [${numWidth - 1}:0] numerator,\n    input  wire [${denWidth - 1}:0] divisor,`;
    const outputs: Array<[string, number]> = [['quotient', quotWidth], ['inexact', 1]];
    const impl: FileSet = new Map([['ptf_layernorm_divider.v', emitDivider(numWidth, denWidth, quotWidth, 'ptf_layernorm_divider', { heldDivisor: held })], ['observed.v', observed(unit, ports, outputs)]]);
    const hold = held ? `\nalways @* assume((left == 0 && !done) || divisor == den);` : '';
    const ref = serialRef(quotWidth,
      `integer num = 0, den = 1;\ntask capture_inputs; begin num <= numerator; den <= divisor; end endtask`,
      `integer quotient, remainder;\nalways @* begin\n    quotient = num / den;\n    remainder = num % den;\nend\nassign quotient_when_done = done ? quotient[${quotWidth - 1}:0] : ${quotWidth}'d0;\nassign inexact_when_done = done ? remainder != 0 : 1'b0;${hold}`,
      outputs, ports, `numerator < (divisor << ${quotWidth})`);
    await expectProof(impl, 'observed', ref, { depth: quotWidth + 4 });
  });
});
