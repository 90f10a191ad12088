/** Every block the generator knows, in the order they are generated and verified. */
import type { Block, BlockName } from './block.ts';
import { attentionBlock } from './attention/index.ts';
import { encoderBlock } from './encoder/index.ts';
import { geluBlock } from './gelu/index.ts';
import { gemmBlock } from './gemm/index.ts';
import { layernormBlock } from './layernorm/index.ts';
import { residualBlock } from './residual/index.ts';
import { softmaxBlock } from './softmax/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const BLOCKS: ReadonlyArray<Block<any>> = [
  gemmBlock,
  layernormBlock,
  softmaxBlock,
  attentionBlock,
  geluBlock,
  residualBlock,
  encoderBlock,
];

export function blockByName(name: BlockName): Block<unknown> | undefined {
  return BLOCKS.find((b) => b.name === name);
}
