// Lint sweep of every generated module: each block at every --bits from 2 to 16 (default spec) and at extreme
// configurations, under `verilator --lint-only -Wall` and Yosys `hierarchy -check`, from the block's top (as in its
// manifest) and, at one width, from each of its own modules alone (Verilator); plus the block's generated testbench with Verilator --timing.
// Generated in memory; two linters at a time. The widths of a block are one design (each width's modules carry its
// prefix, as `npm run gen` names them), read once by each linter and elaborated under every width's top.
import { describe, expect, it } from 'vitest';
import type { BlockName } from '../generators/block.ts';
import { SpecError } from '../generators/common/errors.ts';
import type { FileSet } from '../generators/common/files.ts';
import { inParallel, lintVerilator, lintVerilatorTops, lintYosys, lintYosysTops } from '../generators/common/lint.ts';
import { BLOCKS } from '../generators/registry.ts';
import { sweepsWidth } from './setup/widths.ts';

/** The corners of each block's documented ranges (docs/parameters.md), at the widths where they are hardest. */
const EXTREMES: Record<BlockName, Array<[number, Record<string, unknown>]>> = {
  gemm: [
    [2, { rows: 1, cols: 1, max_k: 1, frac_bits: 8 }],
    [16, { rows: 16, cols: 16, max_k: 1048576, frac_bits: 40 }],
    [8, { a_bits: 2, w_bits: 16, out_bits: 2 }],
    [8, { a_bits: 16, w_bits: 2, out_bits: 16 }],
    // The product as a plain a * w (DSP blocks), at its narrowest and widest operands
    [2, { rows: 1, cols: 1, max_k: 1, frac_bits: 8, multiplier: 'dsp' }],
    [16, { rows: 2, cols: 3, multiplier: 'dsp' }],
    [8, { rows: 2, cols: 4, multiplier: 'dsp' }],
  ],
  layernorm: [
    [4, { channels: 8, rsqrt_bits: 16 }],
    [8, { channels: 1024, rsqrt_bits: 40, scale_ratio_bits: 15 }],
    [4, { channels: 1024, rsqrt_bits: 16 }],
    // DeiT-Tiny's C at 8 bits, also with the square root's guard G < 0 (rsqrt_bits 16); the corners of 2 and 16 bits;
    // a max_channels that is no power of two (the header's C check has both bounds)
    [8, { channels: 768 }],
    [8, { channels: 768, rsqrt_bits: 16 }],
    [2, { channels: 8, rsqrt_bits: 40 }],
    [16, { channels: 1024, rsqrt_bits: 16 }],
    [16, { channels: 1024, rsqrt_bits: 40 }],
    [6, { channels: 20, max_channels: 100 }],
    // lanes: 2 at the default C, and 8 at the smallest C (a token of one beat, 16 token units)
    [8, { channels: 384, lanes: 2 }],
    [4, { channels: 8, rsqrt_bits: 16, lanes: 8 }],
    // the serial element unit at the corners, one token unit
    [2, { channels: 8, rsqrt_bits: 40, datapath: 'serial', max_token_units: 1 }],
    [16, { channels: 1024, rsqrt_bits: 40, datapath: 'serial' }],
  ],
  gelu: [
    [2, { max_k: 1, max_channels: 1, mult_bits: 16 }],
    [12, { w_bits: 16, max_k: 65536, max_channels: 4096, mult_bits: 64 }],
    [2, { max_k: 1, max_channels: 1, mult_bits: 16, datapath: 'serial' }],
    [12, { w_bits: 16, max_k: 65536, max_channels: 4096, mult_bits: 64, datapath: 'serial', lanes: 8 }],
  ],
  residual: [
    [2, { const_bits: 16, max_channels: 1 }],
    [16, { const_bits: 128, max_channels: 4096 }],
    [2, { const_bits: 16, max_channels: 1, datapath: 'serial' }],
    [16, { const_bits: 128, max_channels: 4096, datapath: 'serial', lanes: 8 }],
  ],
  softmax: [
    [2, { in_bits: 2, out_bits: 1, max_length: 1, n: 1 }],
    [12, { in_bits: 12, out_bits: 8, max_length: 4096, n: 30, scale: 1 }],
    [12, { in_bits: 12, out_bits: 8, max_length: 4096, n: 1 }],
    // The widest layer range at 12 bits: a 4,021-word program (x0 = -134 at min_scale), rows of 4096.
    [12, { in_bits: 12, out_bits: 8, max_length: 4096, n: 30, min_scale: 0.0052, scale: 1 }],
  ],
  attention: [
    [2, { heads: 1, head_dim: 1, max_tokens: 1, s_bits: 1, frac_bits: 24 }],
    [16, { heads: 2, head_dim: 8, max_tokens: 16, s_bits: 5, frac_bits: 40, lanes: 8 }],
    [8, { heads: 1, head_dim: 64, max_tokens: 4, lanes: 64 }],
  ],
  encoder: [
    [2, { rows: 1, cols: 1, max_tokens: 1, dim: 8, heads: 1, max_mlp_hidden: 1 }],
    [12, { w_bits: 16, rows: 3, cols: 5, max_tokens: 17, dim: 24, heads: 3, max_mlp_hidden: 100 }],
  ],
};

interface Config {
  label: string;
  rtl: FileSet;
  top: string;
  files: FileSet;
}

function configure(block: (typeof BLOCKS)[number], bits: number, overrides: unknown, resolved?: unknown): Config {
  const files = block.generate(resolved ?? block.resolve(bits, overrides));
  const manifest = JSON.parse(files.get('rtl/manifest.json')!) as { top: string; files: string[] };
  const rtl: FileSet = new Map([...files].filter(([p]) => p.startsWith('rtl/') && p.endsWith('.v')).map(([p, t]) => [p.slice(4), t]));
  expect([...rtl.keys()].sort(), `${block.name} manifest files`).toEqual([...manifest.files].sort());
  return { label: `${block.name} --bits ${bits}${overrides ? ` ${JSON.stringify(overrides)}` : ''}`, rtl, top: manifest.top, files };
}

async function lint(label: string, rtl: FileSet, top: string): Promise<{ label: string; findings: string[] }> {
  const [verilator, yosys] = [await lintVerilator(rtl, top), await lintYosys(rtl, top)];
  return { label, findings: [...verilator, ...yosys] };
}

/**
 * The files of `top` and of every module it instantiates, directly or not: a module is linted with just what it needs,
 * not the whole block parsed again for each of its modules (a module whose name appears in a file counts as used
 * there; one too many is harmless, since Verilator elaborates only from the top).
 */
function underModule(rtl: FileSet, top: string): FileSet {
  const names = [...rtl.keys()].map((p) => p.replace(/\.v$/, ''));
  const needed = new Set([top]);
  for (const queue = [top]; queue.length > 0;) {
    const text = rtl.get(`${queue.pop()!}.v`)!;
    for (const other of names) {
      if (!needed.has(other) && new RegExp(`\\b${other}\\b`).test(text)) {
        needed.add(other);
        queue.push(other);
      }
    }
  }
  return new Map([...rtl].filter(([p]) => needed.has(p.replace(/\.v$/, ''))));
}

/** Each block's top module without a prefix (gemm, ptf_layernorm, softmax_lis, ...), from its manifest at --bits 4. */
const BASE_TOPS = new Map(BLOCKS.map((b) => [b.name, (JSON.parse(b.generate(b.resolve(4, undefined)).get('rtl/manifest.json')!) as { top: string }).top]));

/**
 * The modules of `rtl` that are not part of another block inside it (the encoder holds a GEMM, a LayerNorm, ...; the
 * attention block a softmax): those are linted alone in their own block's section, from the same templates.
 */
function ownModules(rtl: FileSet, name: BlockName, top: string): string[] {
  const modules = [...rtl.keys()].map((p) => p.replace(/\.v$/, ''));
  const otherTops = [...BASE_TOPS].filter(([b]) => b !== name).map(([, t]) => t);
  const inner = modules.filter((m) => m !== top && otherTops.some((t) => m === t || m.endsWith(`_${t}`)));
  // Walked without the block's top (an inner block's header may name it)
  const withoutTop: FileSet = new Map([...rtl].filter(([p]) => p !== `${top}.v`));
  const theirs = new Set(inner.flatMap((t) => [...underModule(withoutTop, t).keys()].map((p) => p.replace(/\.v$/, ''))));
  return modules.filter((m) => m === top || !theirs.has(m));
}

describe.each(BLOCKS.map((b) => [b.name, b] as const))('lint: %s', (name, block) => {
  const configs: Config[] = [];
  const accepted: number[] = [];
  const refused: Array<{ bits: number; error: unknown }> = [];
  // One width beyond each end of --bits (2..16) too, so that there is always a refusal to check.
  for (let bits = 1; bits <= 17; bits++) {
    let spec: unknown;
    try {
      spec = block.resolve(bits, undefined, `bits${bits}`);
    } catch (error) {
      refused.push({ bits, error });
      continue;
    }
    accepted.push(bits);
    // A composite block (the encoder) is linted at a few widths only (test/setup/widths.ts)
    if (!sweepsWidth(name, bits)) continue;
    configs.push(configure(block, bits, undefined, spec));
  }

  it('every width the block accepts is clean from its top under Verilator -Wall and Yosys', async () => {
    expect(configs.length).toBeGreaterThan(0);
    const design: FileSet = new Map(configs.flatMap((c) => [...c.rtl]));
    expect(design.size, 'one file per module name across the widths').toBe(configs.reduce((n, c) => n + c.rtl.size, 0));
    const tops = configs.map((c) => c.top);
    const [verilator, yosys] = await Promise.all([lintVerilatorTops(design, tops), lintYosysTops(design, tops)]);
    expect([...verilator, ...yosys]).toEqual([]);
  });

  it('a width the block does not accept is refused with a spec error naming the parameter and the range it accepts', () => {
    console.log(`${name} refuses --bits ${refused.map((r) => r.bits).join(', ')}: ${(refused[0]?.error as Error | undefined)?.message}`);
    expect(refused.map((r) => r.bits)).toEqual(expect.arrayContaining([1, 17]));
    for (const r of refused) {
      expect(r.error, `${name} --bits ${r.bits}`).toBeInstanceOf(SpecError);
      const range = /^\S.*: must be an integer from (\d+) to (\d+) \(got (\d+)\)$/.exec((r.error as Error).message);
      expect(range, `${name} --bits ${r.bits}: ${(r.error as Error).message}`).not.toBeNull();
      expect(Number(range![3]), `${name} --bits ${r.bits}`).toBe(r.bits);
      // The block accepts exactly the widths its message states.
      const [lo, hi] = [Number(range![1]), Number(range![2])];
      expect(accepted, `${name}: ${(r.error as Error).message}`).toEqual(Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter((b) => b >= 1 && b <= 17));
    }
  });

  it('the extreme configurations are accepted and clean', async () => {
    const extremes = EXTREMES[name].map(([bits, overrides]) => configure(block, bits, overrides));
    const results = await inParallel(extremes.map((c) => () => lint(c.label, c.rtl, c.top)));
    expect(results.filter((r) => r.findings.length > 0)).toEqual([]);
  });

  it('each of its modules is clean as a top of its own (another block\'s inside it: in that block\'s section), and the generated testbench is clean with --timing', async () => {
    const c = configs.find((x) => x.label.endsWith('--bits 4')) ?? configs[0]!;
    const modules = ownModules(c.rtl, name, c.top);
    if (name === 'encoder' || name === 'attention') expect(modules.length, `${name}: the sub-blocks' modules are left to their sections`).toBeLessThan(c.rtl.size);
    const tb: FileSet = new Map([...c.files].filter(([p]) => p.endsWith('.v')));
    const jobs = [
      // Yosys has read every module from the top already; Verilator lints each at its own default parameters.
      ...modules.map((m) => async () => ({ label: `${c.label} top ${m}`, findings: await lintVerilator(underModule(c.rtl, m), m) })),
      async () => ({ label: `${c.label} testbench`, findings: await lintVerilator(tb, 'tb_top', { timing: true }) }),
    ];
    const results = await inParallel(jobs);
    expect(results.filter((r) => r.findings.length > 0)).toEqual([]);
  });
});
