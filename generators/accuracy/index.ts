/** Accuracy against float64 of one block's configuration: the golden model on seeded inputs of the block's shape. */
import type { BlockName } from '../block.ts';
import { gemmAccuracy } from './gemm.ts';
import { layernormAccuracy } from './layernorm.ts';
import { softmaxAccuracy } from './softmax.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

export type { AccuracyMetric, AccuracyReport, SampleOptions } from './types.ts';

const MEASURES: Readonly<Record<BlockName, (bits: number, overrides: unknown, options: SampleOptions) => AccuracyReport>> = {
  gemm: gemmAccuracy,
  layernorm: layernormAccuracy,
  softmax: softmaxAccuracy,
};

/** The block's accuracy figures at `bits` with its --spec section `overrides` (validated like gen does). */
export function measureAccuracy(block: BlockName, bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  return MEASURES[block](bits, overrides, options);
}
