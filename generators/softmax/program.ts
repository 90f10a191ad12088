/**
 * The softmax's run-time program: everything that follows from a layer's input scale. The hardware uses b, c and x0
 * only through the exp table, so a program is the table itself: one word {m, z} per distance d = max - q, for
 * d = 0 .. tableDepth - 1 in order, tlast on the last word (tableDepth words, fixed by the hardware; distances past
 * the layer's clamp n |x0| repeat its last entry, as FQ-ViT's x >= n x0 does). The words are the golden model's own
 * table entries (spec.ts, softmaxLayer), so they cannot drift from it.
 */
import { programFiles, packWord, type Program, type ProgramFormat } from '../common/program.ts';
import type { FileSet } from '../common/files.ts';
import { expOf } from './model.ts';
import type { SoftmaxLayer, SoftmaxSpec } from './spec.ts';

/** The configuration word layout of an instance. */
export function softmaxProgramFormat(spec: SoftmaxSpec): ProgramFormat {
  const { zWidth, shiftWidth, wordWidth } = spec.derived;
  return {
    wordWidth,
    fields: [
      { name: 'z', lsb: 0, width: zWidth, meaning: `polynomial value z = max(r (r + b) + c, 0) of the distance, at most ${spec.range.zMax} (else status_error bit 0)` },
      { name: 'm', lsb: zWidth, width: shiftWidth, meaning: `exp shift m = n - k (e = z << m), at most n = ${spec.params.n} (else status_error bit 0)` },
    ],
    order: `exactly ${spec.range.tableDepth} words, the exp of distance d = max - q for d = 0, 1, ..., ${spec.range.tableDepth - 1} in order ` +
      `(distances past the layer's clamp n |x0| repeat its last entry; larger distances use word ${spec.range.tableDepth - 1}), tlast on the last word ` +
      '(another length sets status_error bit 1)',
  };
}

/** The program of a layer (softmaxLayer(spec, scale)); the default layer's when none is given. */
export function softmaxProgram(spec: SoftmaxSpec, layer: SoftmaxLayer = spec.layer): Program {
  const format = softmaxProgramFormat(spec);
  const words = Array.from({ length: spec.range.tableDepth }, (_, d) => {
    const t = expOf(layer.table, d);
    return packWord(format, { z: t.z, m: t.m });
  });
  const k = layer.constants;
  return {
    format,
    words,
    values: {
      scale: layer.scale,
      b: k.b,
      c: k.c,
      x0: k.x0,
      n: k.n,
      clamp_distance: layer.table.length - 1,
      elem_max: layer.elemMax,
      sum_max: layer.sumMax,
      float_exact_bound: layer.floatExactBound,
      float_exact_limit: layer.floatExactLimit,
    },
  };
}

/** program/default.{hex,json}: the default layer's program, as gen writes it beside rtl/. */
export function defaultProgramFiles(spec: SoftmaxSpec): FileSet {
  return programFiles('program/default', softmaxProgram(spec));
}
