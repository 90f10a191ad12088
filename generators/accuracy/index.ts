/** Accuracy against float64 of one block's configuration: the golden model on seeded inputs of the block's shape. */
import type { BlockName } from '../block.ts';
import { UsageError } from '../common/errors.ts';
import { gemmAccuracy } from './gemm.ts';
import { layernormAccuracy } from './layernorm.ts';
import { softmaxAccuracy } from './softmax.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

export type { AccuracyMetric, AccuracyReport, SampleOptions } from './types.ts';

/** The blocks with an accuracy measure (gelu and residual are exact: their figure is the encoder's, where it exists). */
const MEASURES: Readonly<Partial<Record<BlockName, (bits: number, overrides: unknown, options: SampleOptions) => AccuracyReport>>> = {
  gemm: gemmAccuracy,
  layernorm: layernormAccuracy,
  softmax: softmaxAccuracy,
};

/** The block's accuracy figures at `bits` with its --spec section `overrides` (validated like gen does). */
export function measureAccuracy(block: BlockName, bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  const measure = MEASURES[block];
  if (!measure) throw new UsageError(`--blocks: ${block} has no accuracy measure (it is exact; measured blocks: ${Object.keys(MEASURES).join(', ')})`);
  return measure(bits, overrides, options);
}
