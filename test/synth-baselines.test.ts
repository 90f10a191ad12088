import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintVerilator } from '../generators/common/lint.ts';
import { BASELINES } from '../generators/synth/baselines.ts';

// The benchmark's hand-written baselines compute the block's function: each runs its benchmark problem against
// the block's golden model (with stalls), and is lint-clean with the parameters the benchmark gives it.
describe.each(BASELINES.map((b) => [b.block, b] as const))('%s baseline', (name, baseline) => {
  const spec = baseline.resolve(4);

  it('equals the golden model on its benchmark problem, under stalls', async () => {
    const r = await baseline.run(spec, mkdtempSync(join(tmpdir(), `baseline-${name}-`)), { stallPercent: 25, seed: 5 });
    expect(r.elements).toBeGreaterThan(0);
    expect(r.mismatches).toBe(0);
  });

  it('is lint-clean under Verilator -Wall', async () => {
    const design = baseline.design(spec);
    expect(await lintVerilator(new Map(Object.entries(design.files)), design.top, { params: design.params })).toEqual([]);
  });
});

// The plain array the benchmark sets beside the generated gemm_array (area only: it is synthesized, not simulated).
describe('gemm plain array baseline', () => {
  it('has the generated gemm_array\'s ports and is lint-clean with the default 4-bit shape', async () => {
    const { resolveGemm } = await import('../generators/gemm/spec.ts');
    const { emitRtl, gemmArrayTop } = await import('../generators/gemm/rtl.ts');
    const { gemmArrayBaseline } = await import('../generators/synth/baselines.ts');
    const spec = resolveGemm(4, undefined);
    const design = gemmArrayBaseline(spec);
    expect(design.macs).toBe(64);
    const ports = (text: string) => [...text.matchAll(/^\s*(input|output)\s+wire\s+(?:\[[^\]]+\]\s*)?(\w+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    const generated = emitRtl(spec).get(`${gemmArrayTop(spec)}.v`)!;
    expect(ports(design.files['gemm_array_baseline.v']!)).toEqual(ports(generated));
    expect(ports(generated).length).toBe(11);
    expect(await lintVerilator(new Map(Object.entries(design.files)), design.top, { params: design.params })).toEqual([]);
  });
});
