/**
 * Golden model of a whole FQ-ViT encoder block (../shared/FQVIT.md, "The whole encoder block"), chained from the
 * block models; no step's arithmetic is written here:
 *   norm1   PTF LayerNorm (layernorm/spec.ts resolveLayernorm builds its constants; layernorm/model.ts layernormToken)
 *   qkv     GEMM + bias (gemm/model.ts accumulate, deriveChannel, requantize)
 *   attention, per head: score requantizer, LIS softmax, PV by shifts, output requantizer (attention/model.ts)
 *   proj    GEMM + bias
 *   resid1  PTF residual add (residual/model.ts buildResidualProgram, residualStream)
 *   norm2   PTF LayerNorm, input quantizer resid1
 *   fc1     GEMM accumulators, then GELU on the float y (gelu/model.ts buildGeluProgram, geluHardware)
 *   fc2     GEMM + bias
 *   resid2  PTF residual add of resid1 and fc2_out
 * `encoderLayers` derives every step's constants once from a case's float layers and quantizers; `encoderChain` runs
 * the steps on codes. Every constant set is the one the block's own program builder makes, so the encoder RTL, which
 * composes those blocks, must equal this model bit for bit.
 */
import { attentionLayer, attentionModel, type AttentionLayer } from '../attention/model.ts';
import { caseScales, caseSpec } from '../attention/stages.ts';
import type { AttentionSpec } from '../attention/spec.ts';
import { accumulate, deriveChannel, requantize, type ChannelConstants } from '../gemm/model.ts';
import { resolveGemm, type GemmSpec } from '../gemm/spec.ts';
import { buildGeluProgram, geluHardware, type GeluProgramValues } from '../gelu/model.ts';
import { geluWidths } from '../gelu/program.ts';
import { resolveGelu } from '../gelu/spec.ts';
import { layernormToken, type ModelLayer } from '../layernorm/model.ts';
import { resolveLayernorm, scaleRatioLog2, type LayernormSpec } from '../layernorm/spec.ts';
import { buildResidualProgram, residualStream, type ResidualLayer, type ResidualProgramValues } from '../residual/model.ts';
import { residualWidths } from '../residual/program.ts';
import { resolveResidual } from '../residual/spec.ts';
import { SpecError } from '../common/errors.ts';
import type { EncoderCase, Intermediate, NormLayer, PtfName, UniformName } from './case.ts';
import { exactChannel, exactCode, firstInexact } from './exact-linear.ts';

/** The GEMM steps that end in a requantizer (fc1 ends in GELU). */
export type LinearName = 'qkv' | 'proj' | 'fc2';

/**
 * Fraction bits of the GEMM requantizers (qkv, proj, fc2): deriveChannel stores each rescale a_scale · w_scale /
 * out_scale as M · 2^-S with M of this many bits. linearStep proves, per channel, that the requantizer then equals the
 * exact formula on every accumulator (exact-linear.ts). At the GEMM's default, 24, that proof fails for most public
 * layers (a few accumulators near a rounding tie, none of them in the public data); at 32 and 40 it holds for all of
 * them. 40, the requantizer's largest, leaves the most room for other layers.
 */
export const ENCODER_GEMM_FRAC_BITS = 40;

/** A GEMM step: the requantizer's spec and one constant set per output channel. */
export interface LinearStep {
  spec: GemmSpec;
  w: number[][];
  /** Zero point of the input codes. */
  inZeroPoint: number;
  channels: ChannelConstants[];
}

/** Every step's constants for one encoder layer, derived once. */
export interface EncoderLayers {
  bits: number;
  norm1: ModelLayer;
  qkv: LinearStep;
  attention: { spec: AttentionSpec; layer: AttentionLayer };
  proj: LinearStep;
  resid1: ResidualProgramValues;
  norm2: ModelLayer;
  /** fc1's weights and input zero point; its accumulators go to GELU, not to a requantizer. */
  fc1: { w: number[][]; inZeroPoint: number };
  gelu: GeluProgramValues;
  fc2: LinearStep;
  resid2: ResidualProgramValues;
}

/**
 * The LayerNorm step whose input is PTF quantizer `input` and whose output is `output`, as the LayerNorm block builds
 * it (resolveLayernorm: the same constants as its program). scale_ratio_bits is the block's largest, so the widest
 * range of |gamma / out_scale| and |beta / out_scale| the block allows is accepted (a layer beyond it is a SpecError);
 * it sizes the hardware and changes no output.
 */
export function normLayer(c: EncoderCase, norm: NormLayer, input: PtfName, output: UniformName): ModelLayer {
  const spec = normSpec(c, norm, input, output);
  return { bits: spec.bits, zeroPoint: spec.layer.zeroPoint, outZeroPoint: spec.layer.outZeroPoint, channels: spec.constants, precision: spec.derived.precision };
}

/**
 * The LayerNorm spec of that step (its program: layernorm/rtl.ts layernormProgram), on an instance of `maxChannels`
 * (default C) named under `prefix`: the encoder RTL's LayerNorm, whose outputs do not depend on max_channels.
 */
export function normSpec(c: EncoderCase, norm: NormLayer, input: PtfName, output: UniformName, maxChannels = c.dim, prefix = ''): LayernormSpec {
  const q = c.quantizers[input];
  const o = c.quantizers[output];
  return resolveLayernorm(c.aBits, {
    channels: c.dim, max_channels: maxChannels,
    in_scale_min: q.scaleMin, zero_point: q.zeroPoint, alpha: q.alpha,
    gamma: norm.gamma, beta: norm.beta,
    out_scale: o.scale, out_zero_point: o.zeroPoint,
    scale_ratio_bits: scaleRatioLog2(c.aBits),
  }, prefix);
}

/**
 * A GEMM step from input quantizer `input` through layer `name` to output quantizer `output`, its constants proven
 * equal to the exact formula on every accumulator of the step's range (exact-linear.ts); SpecError naming the channel
 * when frac_bits is too few for that. `hardware` (the encoder RTL's GEMM, sized for its longest K) replaces the GEMM sized
 * for this step: its constants are proven over its own, wider, accumulator range.
 */
export function linearStep(c: EncoderCase, name: LinearName, input: UniformName, output: UniformName, fracBits = ENCODER_GEMM_FRAC_BITS, hardware?: GemmSpec): LinearStep {
  const layer = c.layers[name];
  const k = layer.w[0]?.length ?? 0;
  const spec = hardware ?? resolveGemm(c.aBits, { a_bits: c.aBits, w_bits: c.wBits, out_bits: c.aBits, max_k: Math.max(1, k), frac_bits: fracBits });
  const scales = {
    aScale: c.quantizers[input].scale, wScale: layer.wScale, bias: layer.bias,
    outScale: c.quantizers[output].scale, outZeroPoint: c.quantizers[output].zeroPoint,
  };
  const channels = layer.w.map((_, n) => {
    const constants = deriveChannel(spec, scales, n);
    const exact = exactChannel(scales, n, c.aBits);
    const acc = firstInexact(spec, constants, exact);
    if (acc !== undefined) {
      throw new SpecError(`layers.${name}.w_scale[${n}]`,
        `needs a requantizer equal to the exact rescale on every accumulator; with frac_bits ${spec.fracBits} accumulator ${acc} gives ` +
        `${requantize(spec, acc, constants)}, the exact formula ${exactCode(exact, acc)}: raise frac_bits (at most 40)`, layer.wScale[n]);
    }
    return constants;
  });
  return { spec, w: layer.w, inZeroPoint: c.quantizers[input].zeroPoint, channels };
}

/** The residual add x (PTF quantizer `x`) + y (uniform `y`) into PTF quantizer `out`, as the residual block's program. */
export function residualLayer(c: EncoderCase, x: PtfName, y: UniformName, out: PtfName): ResidualProgramValues {
  const q = c.quantizers;
  const layer: ResidualLayer = {
    xScaleMin: q[x].scaleMin, xAlpha: q[x].alpha, xZeroPoint: q[x].zeroPoint,
    yScale: q[y].scale, yZeroPoint: q[y].zeroPoint,
    outScaleMin: q[out].scaleMin, outAlpha: q[out].alpha, outZeroPoint: q[out].zeroPoint,
  };
  return buildResidualProgram(residualWidths(resolveResidual(c.aBits, { max_channels: c.dim })), layer);
}

/** The GELU program of fc1 (its scales and bias) into fc1_act, built and proven exact by the GELU block. */
export function geluLayer(c: EncoderCase): GeluProgramValues {
  const spec = resolveGelu(c.aBits, { bits: c.aBits, w_bits: c.wBits, max_k: c.dim, max_channels: c.mlpHidden });
  const layer = {
    aScale: c.quantizers.norm2_out.scale, wScale: c.layers.fc1.wScale, bias: c.layers.fc1.bias,
    outScale: c.quantizers.fc1_act.scale, outZeroPoint: c.quantizers.fc1_act.zeroPoint,
  };
  return buildGeluProgram(geluWidths(spec), layer).values;
}

export interface EncoderModelOptions {
  /** Fraction bits of the qkv, proj and fc2 requantizers (default ENCODER_GEMM_FRAC_BITS): the RTL's GEMMs must use the same. */
  gemmFracBits?: number;
}

/** Every step's constants of a case (SpecError naming the value when a layer does not fit a block). */
export function encoderLayers(c: EncoderCase, options: EncoderModelOptions = {}): EncoderLayers {
  const spec = caseSpec(c);
  const fracBits = options.gemmFracBits ?? ENCODER_GEMM_FRAC_BITS;
  return {
    bits: c.aBits,
    norm1: normLayer(c, c.layers.norm1, 'in', 'norm1_out'),
    qkv: linearStep(c, 'qkv', 'norm1_out', 'qkv_out', fracBits),
    attention: { spec, layer: attentionLayer(spec, caseScales(c)) },
    proj: linearStep(c, 'proj', 'attn_out', 'proj_out', fracBits),
    resid1: residualLayer(c, 'in', 'proj_out', 'resid1'),
    norm2: normLayer(c, c.layers.norm2, 'resid1', 'norm2_out'),
    fc1: { w: c.layers.fc1.w, inZeroPoint: c.quantizers.norm2_out.zeroPoint },
    gelu: geluLayer(c),
    fc2: linearStep(c, 'fc2', 'fc1_act', 'fc2_out', fracBits),
    resid2: residualLayer(c, 'resid1', 'fc2_out', 'resid2'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The steps, on codes (tokens are rows)

export function normStep(layer: ModelLayer, tokens: readonly (readonly number[])[]): number[][] {
  return tokens.map((t) => layernormToken(t, layer).map(Number));
}

export function linearCodes(step: LinearStep, tokens: readonly (readonly number[])[]): number[][] {
  return accumulate(tokens, step.w, step.inZeroPoint).map((row) => row.map((acc, n) => Number(requantize(step.spec, acc, step.channels[n]!))));
}

/** fc1's exact accumulators through GELU into fc1_act codes. */
export function fc1GeluCodes(layers: EncoderLayers, tokens: readonly (readonly number[])[]): number[][] {
  return accumulate(tokens, layers.fc1.w, layers.fc1.inZeroPoint).map((row) => row.map((acc, n) => geluHardware(layers.gelu, acc, n, layers.bits)));
}

export function residualCodes(p: ResidualProgramValues, bits: number, x: readonly (readonly number[])[], y: readonly (readonly number[])[]): number[][] {
  return x.map((row, t) => residualStream(p, row.map((v, ch) => ({ x: v, y: y[t]![ch]!, last: ch === row.length - 1 })), bits));
}

export function attentionCodes(layers: EncoderLayers, qkv: number[][]) {
  return attentionModel(layers.attention.spec, layers.attention.layer, qkv);
}

/** Every step's codes of a chain run, named as the case's `intermediate` (attn_prob: the integer LIS). */
export type ChainResult = Omit<Intermediate, 'attn_prob_exact'>;

/** The whole block fed only its input codes: each step takes the previous step's model output. */
export function encoderChain(layers: EncoderLayers, inputs: number[][]): ChainResult {
  const norm1_out = normStep(layers.norm1, inputs);
  const qkv_out = linearCodes(layers.qkv, norm1_out);
  const att = attentionCodes(layers, qkv_out);
  const proj_out = linearCodes(layers.proj, att.out);
  const resid1 = residualCodes(layers.resid1, layers.bits, inputs, proj_out);
  const norm2_out = normStep(layers.norm2, resid1);
  const fc1_act = fc1GeluCodes(layers, norm2_out);
  const fc2_out = linearCodes(layers.fc2, fc1_act);
  const resid2 = residualCodes(layers.resid2, layers.bits, resid1, fc2_out);
  return { norm1_out, qkv_out, attn_score: att.score, attn_prob: att.prob, attn_out: att.out, proj_out, resid1, norm2_out, fc1_act, fc2_out, resid2 };
}
