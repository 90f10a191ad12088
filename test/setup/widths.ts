// The widths a test runs a block at: every width it accepts, except for a composite block (the encoder, built from
// blocks each checked at every width), which runs at a few spread over its range; generating and linting it at
// every width costs minutes of the suite's budget and checks its parts again. Wider than 8 bits, the encoder is
// generated and linted at its 12-bit extreme configuration (test/lint-blocks.test.ts): its default at 12 bits takes
// 20 s to generate (the default layer's GELU program over a 12-bit MLP input range, proven code by code), three times
// in the suite.
import type { BlockName } from '../../generators/block.ts';

export const COMPOSITE_WIDTHS: Partial<Record<BlockName, readonly number[]>> = { encoder: [2, 4, 8] };

/** Whether a test that sweeps --bits runs `block` at `bits` (a width the block refuses is the test's own business). */
export function sweepsWidth(block: BlockName, bits: number): boolean {
  const few = COMPOSITE_WIDTHS[block];
  return few === undefined || few.includes(bits);
}
