/**
 * The host side of the encoder RTL: what a host streams for one run of the block (a case of the vector file) on an
 * instance, in the order of the steps (README.md, "Host protocol"), and the codes the RTL must give back. Every
 * program word is built by the sub-block's own program builder from the same constants as the golden model.
 */
import { SpecError } from '../common/errors.ts';
import type { Beat } from '../common/sim.ts';
import { attentionLayer } from '../attention/model.ts';
import { attentionProgram } from '../attention/rtl.ts';
import { caseScales } from '../attention/stages.ts';
import { buildStreams } from '../gemm/driver.ts';
import { layernormProgram } from '../layernorm/rtl.ts';
import type { EncoderCase } from './case.ts';
import { programOfValues } from '../residual/program.ts';
import { geluProgram } from '../gelu/program.ts';
import { linearStep, normSpec, residualLayer, type LinearName, type LinearStep } from './model.ts';
import { cfgWidth, headerFields } from './rtl.ts';
import { subPrefix, type EncoderSpec } from './spec.ts';

/** The streams of one run. */
export interface EncoderStreams {
  cfg: Beat[];
  tokens: Beat[];
  wgt: Beat[];
  param: Beat[];
}

/** Checks that a case runs on the instance: SpecError naming the case's value and the instance's range. */
export function checkCaseFits(spec: EncoderSpec, c: EncoderCase): void {
  const p = spec.params;
  const same = (name: string, got: number, want: number) => {
    if (got !== want) throw new SpecError(name, `must be ${want} on this instance (encoder.${name === 'a_bits' ? 'bits' : name})`, got);
  };
  same('a_bits', c.aBits, p.bits);
  same('w_bits', c.wBits, p.w_bits);
  same('dim', c.dim, p.dim);
  same('heads', c.heads, p.heads);
  if (c.tokens > p.max_tokens) throw new SpecError('tokens', `must be from 1 to encoder.max_tokens = ${p.max_tokens}`, c.tokens);
  if (c.mlpHidden > p.max_mlp_hidden) throw new SpecError('mlp_hidden', `must be from 1 to encoder.max_mlp_hidden = ${p.max_mlp_hidden}`, c.mlpHidden);
}

/** A GEMM step on the instance's GEMM (constants proven exact over its accumulator range). */
export function hardwareLinear(spec: EncoderSpec, c: EncoderCase, name: LinearName, input: 'norm1_out' | 'attn_out' | 'fc1_act', output: 'qkv_out' | 'proj_out' | 'fc2_out'): LinearStep {
  return linearStep(c, name, input, output, spec.derived.gemm.fracBits, spec.derived.gemm);
}

/**
 * fc1 as the GEMM step runs it: its accumulators go to GELU (acc_mode), so its channel constants are not used; the
 * step still takes `cols` constant beats per column tile, which are zero.
 */
function fc1Step(spec: EncoderSpec, c: EncoderCase): LinearStep {
  const w = c.layers.fc1.w;
  return { spec: spec.derived.gemm, w, inZeroPoint: c.quantizers.norm2_out.zeroPoint, channels: w.map(() => ({ mult: 0n, shift: 0, offset: 0n })) };
}

/** A step's weights and channel constants as the GEMM step takes them: per column tile, K weight beats then COLS constants. */
function linearStreams(spec: EncoderSpec, step: LinearStep): { wgt: Beat[]; param: Beat[] } {
  const k = step.w[0]!.length;
  // One token of zero points: buildStreams then tiles W into column tiles only, in order, which is the encoder's order.
  const s = buildStreams(spec.derived.gemm, { a: [new Array<number>(k).fill(step.inZeroPoint)], w: step.w, aZeroPoint: step.inZeroPoint, channels: step.channels });
  return { wgt: s.wgt, param: s.param };
}

/** The one-word header: N and the MLP hidden width. */
export function headerWord(spec: EncoderSpec, tokens: number, mlpHidden: number): bigint {
  const h = headerFields(spec);
  return (BigInt(mlpHidden) << BigInt(h.hLsb)) | (BigInt(tokens) << BigInt(h.nLsb));
}

/** Everything the host streams for one run of case `c` (the steps this build runs). */
export function encoderStreams(spec: EncoderSpec, c: EncoderCase): EncoderStreams {
  checkCaseFits(spec, c);
  const width = cfgWidth(spec);
  const one = (data: bigint): Beat => {
    if (data >= 1n << BigInt(width)) throw new Error(`encoder: program word 0x${data.toString(16)} wider than ${width} bits`);
    return { data, last: true };
  };
  const words = (ws: readonly bigint[]): Beat[] => ws.map((data, i) => ({ data, last: i === ws.length - 1 }));
  const norm1 = layernormProgram(normSpec(c, c.layers.norm1, 'in', 'norm1_out', spec.params.dim, subPrefix(spec.prefix)));
  const qkv = hardwareLinear(spec, c, 'qkv', 'norm1_out', 'qkv_out');
  const att = spec.derived.attention;
  const attention = attentionProgram(att, attentionLayer(att, caseScales(c)));
  const proj = hardwareLinear(spec, c, 'proj', 'attn_out', 'proj_out');
  const resid1 = programOfValues(spec.derived.residual, residualLayer(c, 'in', 'proj_out', 'resid1'));
  const norm2 = layernormProgram(normSpec(c, c.layers.norm2, 'resid1', 'norm2_out', spec.params.dim, subPrefix(spec.prefix)));
  const fc1 = fc1Step(spec, c);
  const gelu = geluProgram(spec.derived.gelu, {
    aScale: c.quantizers.norm2_out.scale, wScale: c.layers.fc1.wScale, bias: c.layers.fc1.bias,
    outScale: c.quantizers.fc1_act.scale, outZeroPoint: c.quantizers.fc1_act.zeroPoint,
  });
  const fc2 = hardwareLinear(spec, c, 'fc2', 'fc1_act', 'fc2_out');
  const resid2 = programOfValues(spec.derived.residual, residualLayer(c, 'resid1', 'fc2_out', 'resid2'));
  const linear = [qkv, proj, fc1, fc2].map((step) => linearStreams(spec, step));
  return {
    cfg: [
      one(headerWord(spec, c.tokens, c.mlpHidden)),
      ...words(norm1.words),
      one(BigInt(qkv.inZeroPoint)),
      ...words(attention.words),
      one(BigInt(proj.inZeroPoint)),
      ...words(resid1.words),
      ...words(norm2.words),
      one(BigInt(fc1.inZeroPoint)),
      ...words(gelu.words),
      one(BigInt(fc2.inZeroPoint)),
      ...words(resid2.words),
    ],
    tokens: c.inputs.flatMap((t) => t.map((q, ch) => ({ data: BigInt(q), last: ch === t.length - 1 }))),
    wgt: linear.flatMap((l) => l.wgt),
    param: linear.flatMap((l) => l.param),
  };
}

/** Tokens of codes as the output stream: token by token, tlast on the run's last code. */
export function runBeats(codes: readonly (readonly number[])[]): Beat[] {
  const flat = codes.flat();
  return flat.map((v, i) => ({ data: BigInt(v), last: i === flat.length - 1 }));
}
