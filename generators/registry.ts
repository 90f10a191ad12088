/** Every block the generator knows, in the order they are generated and verified. */
import type { Block, BlockName } from './block.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const BLOCKS: ReadonlyArray<Block<any>> = [];

export function blockByName(name: BlockName): Block<unknown> | undefined {
  return BLOCKS.find((b) => b.name === name);
}
