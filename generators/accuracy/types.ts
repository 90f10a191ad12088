/** What an accuracy measurement reports: each number beside the name of its metric and what it compares. */

export interface AccuracyMetric {
  /** e.g. `rms_error`; unique within one report. */
  name: string;
  value: number;
  /** What is compared with what, in which units. */
  meaning: string;
  /** Which way is more accurate: 'lower' (an error; the default when absent) or 'higher' (an SQNR). */
  better?: 'lower' | 'higher';
}

export interface AccuracyReport {
  block: string;
  /** The inputs the figures were measured on (generator, seed, shape). */
  inputs: string;
  metrics: AccuracyMetric[];
  /** The metric the sweep plots against logic cells. */
  primary: string;
}

/** How many inputs to draw and from which seed. */
export interface SampleOptions {
  seed: number;
  /** Rows (softmax), tokens (layernorm) or rows of A (gemm). */
  samples: number;
}

export const DEFAULT_SAMPLES: SampleOptions = { seed: 1, samples: 32 };
