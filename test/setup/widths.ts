// The widths a test runs a block at: every width it accepts, except for a composite block (the encoder, built from
// blocks each checked at every width), which runs at a few spread over its range; generating and linting it at
// every width costs minutes of the suite's budget and checks its parts again.
import type { BlockName } from '../../generators/block.ts';

export const COMPOSITE_WIDTHS: Partial<Record<BlockName, readonly number[]>> = { encoder: [2, 4, 8, 12] };

/** Whether a test that sweeps --bits runs `block` at `bits` (a width the block refuses is the test's own business). */
export function sweepsWidth(block: BlockName, bits: number): boolean {
  const few = COMPOSITE_WIDTHS[block];
  return few === undefined || few.includes(bits);
}
