/** Accuracy against float64 of one block's configuration: the golden model on seeded inputs of the block's shape. */
import type { BlockName } from '../block.ts';
import { UsageError } from '../common/errors.ts';
import { encoderAccuracy } from './encoder.ts';
import { gemmAccuracy } from './gemm.ts';
import { layernormAccuracy } from './layernorm.ts';
import { softmaxAccuracy } from './softmax.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

export type { AccuracyMetric, AccuracyReport, SampleOptions } from './types.ts';

/**
 * The blocks with an accuracy measure (gelu and residual are exact, and attention is measured inside the encoder: their
 * figure is the encoder's).
 */
const MEASURES: Readonly<Partial<Record<BlockName, (bits: number, overrides: unknown, options: SampleOptions) => AccuracyReport>>> = {
  gemm: gemmAccuracy,
  layernorm: layernormAccuracy,
  softmax: softmaxAccuracy,
  encoder: encoderAccuracy,
};

/** The blocks with an accuracy measure, in the registry's order (the sweep's default --blocks). */
export const MEASURED_BLOCKS = Object.keys(MEASURES) as BlockName[];

/** UsageError unless the block has an accuracy measure. */
export function requireMeasure(block: BlockName): void {
  if (!MEASURES[block]) {
    throw new UsageError(`--blocks: ${block} has no accuracy measure of its own (gelu and residual are exact, attention is measured inside the encoder); measured blocks: ${MEASURED_BLOCKS.join(', ')}`);
  }
}

/** The block's accuracy figures at `bits` with its --spec section `overrides` (validated like gen does). */
export function measureAccuracy(block: BlockName, bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  requireMeasure(block);
  return MEASURES[block]!(bits, overrides, options);
}
