/**
 * The GELU block's run-time program: one layer's split, bound tables and per-channel map as s_cfg_axis words,
 * computed (and proven exact) by the model's buildGeluProgram, so the words cannot drift from the golden model.
 */
import { toUnsigned } from '../common/arith.ts';
import type { Program, ProgramFormat } from '../common/program.ts';
import { buildGeluProgram, sentinels, type GeluLayer, type GeluProgramValues, type GeluProof, type GeluWidths } from './model.ts';
import type { GeluSpec } from './spec.ts';

export function geluWidths(spec: GeluSpec): GeluWidths {
  const p = spec.params;
  return { bits: p.bits, accWidth: spec.derived.accWidth, multBits: p.mult_bits, zWidth: spec.derived.zWidth, maxChannels: p.max_channels };
}

export function geluProgramFormat(spec: GeluSpec): ProgramFormat {
  const z = spec.derived.zWidth;
  return {
    wordWidth: z,
    fields: [{ name: 'value', lsb: 0, width: z, meaning: 'the word at this position of the program (order); signed values in two\'s complement' }],
    order:
      'C - 1 (at most max_channels - 1); SPLIT; the rising bounds R[1 .. 2^bits - 1] (ascending); the falling bounds ' +
      'as F[k] = -N[k], k = 1 .. 2^bits - 1 (descending; the hardware counts z <= F[k], so it never negates z; N\'s ' +
      'sentinels map to the other sentinel); then for c = 0 .. C - 1: M[c] (1 .. 2^mult_bits - 1), B[c]; tlast on the last word ' +
      '(2 + 2 (2^bits - 1) + 2C words). The values are generators/gelu/model.ts buildGeluProgram of the layer, which proves ' +
      'them exact; the hardware checks C and M only (unsorted tables are not detected).',
  };
}

export type GeluProgram = Program & { integers: GeluProgramValues; proof: GeluProof };

/**
 * The falling table's word for bound N: F = -N, so that the hardware tests z <= F (the same as N <= -z) on z itself.
 * N's sentinels (always met at the minimum, never at the maximum) map to the other sentinel, which z never reaches.
 */
export function fallingWord(n: bigint, zWidth: number): bigint {
  const { min, max } = sentinels(zWidth);
  return n === min ? max : n === max ? min : -n;
}

/** A layer's program (SpecError when the layer does not fit the spec or cannot be proven exact). */
export function geluProgram(spec: GeluSpec, layer: GeluLayer): GeluProgram {
  const { values, proof } = buildGeluProgram(geluWidths(spec), layer);
  const z = spec.derived.zWidth;
  const s = (v: bigint) => toUnsigned(v, z);
  const words = [
    BigInt(values.channels - 1), s(values.split),
    ...values.rising.map(s), ...values.falling.map((n) => s(fallingWord(n, z))),
    ...values.mult.flatMap((m, c) => [m, s(values.offset[c]!)]),
  ];
  return { format: geluProgramFormat(spec), words, values: { layer, fracBits: values.fracBits, proof }, integers: values, proof };
}
