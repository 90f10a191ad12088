/**
 * The residual block's run-time program: one layer's zero points, exact scale constants and per-channel alphas as
 * s_cfg_axis words, computed by the model's buildResidualProgram (so the words cannot drift from the golden model).
 */
import type { Program, ProgramFormat } from '../common/program.ts';
import { buildResidualProgram, type ResidualLayer, type ResidualProgramValues } from './model.ts';
import { RESIDUAL_HEADER_WORDS, type ResidualSpec } from './spec.ts';

export function residualProgramFormat(spec: ResidualSpec): ProgramFormat {
  return {
    wordWidth: spec.derived.cfgWidth,
    fields: [{ name: 'value', lsb: 0, width: spec.derived.cfgWidth, meaning: 'the word at this position of the program (order)' }],
    order:
      `${RESIDUAL_HEADER_WORDS} header words, then one word per channel: C - 1 (at most max_channels - 1), zp_x, zp_y, zp_out ` +
      `(each below 2^bits), X', Y', O' (below 2^const_bits, O' > 0), K = (2 zp_out + 1) O', then for c = 0 .. C - 1 ` +
      '{ao[c], ax[c]} (bits [3:2] the output alpha, [1:0] the x alpha); tlast on the last word. ' +
      'The constants are generators/residual/model.ts buildResidualProgram of the layer\'s float64 scales.',
  };
}

export function residualWidths(spec: ResidualSpec) {
  return { bits: spec.params.bits, constBits: spec.params.const_bits, maxChannels: spec.params.max_channels };
}

/** The words of a layer's program (SpecError when the layer does not fit the spec). */
export function residualProgram(spec: ResidualSpec, layer: ResidualLayer): Program & { integers: ResidualProgramValues } {
  const v = buildResidualProgram(residualWidths(spec), layer);
  return programOfValues(spec, v, layer);
}

export function programOfValues(spec: ResidualSpec, v: ResidualProgramValues, layer?: ResidualLayer): Program & { integers: ResidualProgramValues } {
  const words = [
    BigInt(v.channels - 1), BigInt(v.zx), BigInt(v.zy), BigInt(v.zo), v.xConst, v.yConst, v.oConst, v.offsetConst,
    ...v.xAlpha.map((ax, c) => BigInt((v.outAlpha[c]! << 2) | ax)),
  ];
  return { format: residualProgramFormat(spec), words, values: { layer, integers: v }, integers: v };
}
