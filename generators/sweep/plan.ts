/**
 * The configurations of a sweep: the cross product of blocks, spec files and widths in one deterministic order, its
 * split into disjoint shards, and the sweep's identity (so that shards of different sweeps are never merged).
 */
import { createHash } from 'node:crypto';
import type { BlockName } from '../block.ts';

/** A spec file given with --spec: where it is, and its per-block sections. */
export interface SweepSpecFile {
  path: string;
  blocks: Partial<Record<BlockName, unknown>>;
}

/** One configuration: one block at one width, with its --spec section (or none). */
export interface SweepConfig {
  /** `softmax-bits4`, or `softmax-bits4-1a2b3c4d` with a spec section (hash of that section). */
  id: string;
  block: BlockName;
  bits: number;
  /** The spec file that has a section for this block, or null (the block's defaults). */
  specPath: string | null;
  /** The block's section of that file, or undefined. */
  section: unknown;
  /** Short hash of `section` (the id's suffix), or null. */
  specHash: string | null;
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function shortHash(value: unknown, length = 8): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, length);
}

/**
 * Blocks (in the order given), then spec files (in the order given; a file without a section for the block gives the
 * block's defaults), then widths (ascending). A configuration that two spec files make identical appears once.
 */
export function expandConfigurations(blocks: readonly BlockName[], bits: readonly number[], specs: readonly SweepSpecFile[]): SweepConfig[] {
  const configs: SweepConfig[] = [];
  const seen = new Set<string>();
  const widths = [...new Set(bits)].sort((a, b) => a - b);
  for (const block of blocks) {
    const sources = specs.length === 0 ? [undefined] : specs;
    for (const spec of sources) {
      const section = spec?.blocks[block];
      for (const b of widths) {
        const specHash = section === undefined ? null : shortHash(section);
        const id = specHash === null ? `${block}-bits${b}` : `${block}-bits${b}-${specHash}`;
        if (seen.has(id)) continue;
        seen.add(id);
        configs.push({ id, block, bits: b, specPath: section === undefined ? null : spec!.path, section, specHash });
      }
    }
  }
  return configs;
}

/** The i-th of n disjoint parts: configurations i - 1, i - 1 + n, i - 1 + 2n, ... (blocks spread over the shards). */
export function shardOf<T>(configs: readonly T[], shard: Shard): T[] {
  return configs.filter((_, j) => j % shard.count === shard.index - 1);
}

/** What makes two shards parts of the same sweep: every configuration (with its spec section) and every option. */
export function sweepIdentity(configs: readonly SweepConfig[], options: Record<string, unknown>): string {
  return shortHash({ configurations: configs.map((c) => ({ id: c.id, section: c.section ?? null })), options }, 16);
}
