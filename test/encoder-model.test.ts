// The encoder block's golden model (generators/encoder) against every public encoder case: each step fed the
// reference's own input (0 mismatches except the LayerNorm steps and FQ-ViT's float LIS, within their tolerances), the
// whole chain fed only the inputs (reported), its accuracy against float_out (at least FQ-ViT's less 0.1 dB), and the
// --dump file. Each case is computed once (beforeAll): the 197-token DeiT-Tiny case takes about 15 s of the file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEncoderCase, type EncoderCase } from '../generators/encoder/case.ts';
import { encoderChain, encoderLayers } from '../generators/encoder/model.ts';
import { compareCodes, dumpEncoder, encoderCaseReport, encoderReportFailures, sqnrDb, STAGE_NAMES, type EncoderReport } from '../generators/encoder/report.ts';

const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
const cases = vectors.cases.map((raw, index) => ({ index, raw })).filter((k) => k.raw.block === 'encoder');

describe('encoder report requirements (encoderReportFailures)', () => {
  const clean = (): EncoderReport => ({
    stages: Object.fromEntries(STAGE_NAMES.map((n) => [n, { mismatches: 0, max_abs_diff: 0, elements: 100_000 }])) as EncoderReport['stages'],
    chain: { mismatches: 7, max_abs_diff: 3, elements: 100 },
    sqnr_db: 20, sqnr_fqvit_db: 20.05, output: [],
  });
  it('accepts exact stages, an inexact chain and a chain 0.05 dB below FQ-ViT', () => {
    expect(encoderReportFailures(clean())).toEqual([]);
  });
  it('rejects one mismatch in an exact step, LayerNorm beyond 0.01% or off by 2, LIS beyond 0.1%, and 0.1 dB too little', () => {
    const cases: Array<[(r: EncoderReport) => void, RegExp]> = [
      [(r) => { r.stages.fc1_act.mismatches = 1; }, /^fc1_act/],
      [(r) => { r.stages.attn_prob.mismatches = 1; }, /^attn_prob:/],
      [(r) => { r.stages.norm1_out.mismatches = 11; r.stages.norm1_out.max_abs_diff = 1; }, /^norm1_out/],
      [(r) => { r.stages.norm2_out.mismatches = 1; r.stages.norm2_out.max_abs_diff = 2; }, /^norm2_out/],
      [(r) => { r.stages.attn_prob_fqvit.mismatches = 101; r.stages.attn_prob_fqvit.max_abs_diff = 1; }, /^attn_prob_fqvit/],
      [(r) => { r.sqnr_db = 19.94; }, /^sqnr_db/],
      [(r) => { r.sqnr_db = Number.NaN; }, /^sqnr_db/],
    ];
    for (const [spoil, message] of cases) {
      const r = clean();
      spoil(r);
      const failures = encoderReportFailures(r);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(message);
    }
    const r = clean();
    r.stages.norm1_out.mismatches = 10;
    r.stages.norm1_out.max_abs_diff = 1;
    r.stages.attn_prob_fqvit.mismatches = 100;
    expect(encoderReportFailures(r)).toEqual([]); // exactly at the limits
  });
  it('SQNR is 10 log10(Σ f² / Σ (deq - f)²) with the per-channel PTF scale', () => {
    const q = { scales: [0.5, 2], scaleMin: 0.5, alpha: [0, 2], zeroPoint: 3 };
    // deq = [(5 - 3) 0.5, (1 - 3) 2] = [1, -4]; f = [1.5, -4]: noise 0.25, signal 2.25 + 16.
    expect(sqnrDb([[5, 1]], q, [[1.5, -4]])).toBeCloseTo(10 * Math.log10(18.25 / 0.25), 12);
  });
});

describe.each(cases)('encoder model, public case $index', ({ index, raw }) => {
  let c: EncoderCase;
  let report: EncoderReport;
  beforeAll(() => {
    c = readEncoderCase(raw);
    report = encoderCaseReport(c);
  }, 120_000);

  it('every step from the reference\'s own input: exact, LayerNorm and FQ-ViT\'s LIS within tolerance', () => {
    expect(Object.keys(report.stages).sort()).toEqual([...STAGE_NAMES].sort());
    for (const name of STAGE_NAMES) {
      const s = report.stages[name];
      const elements = name.startsWith('attn_prob') || name === 'attn_score' ? c.heads * c.tokens * c.tokens
        : name === 'qkv_out' ? c.tokens * 3 * c.dim : name === 'fc1_act' ? c.tokens * c.mlpHidden : c.tokens * c.dim;
      expect(s.elements, name).toBe(elements);
    }
    expect(encoderReportFailures(report)).toEqual([]);
  });

  it('the chain fed only the inputs: its output shape, its difference from expect reported, accuracy within 0.1 dB of FQ-ViT', () => {
    expect(report.output).toHaveLength(c.tokens);
    expect(report.output.every((row) => row.length === c.dim && row.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** c.aBits))).toBe(true);
    expect(report.chain).toEqual(compareCodes(report.output, c.expect, 'chain resid2'));
    expect(report.chain.elements).toBe(c.tokens * c.dim);
    expect(Number.isFinite(report.sqnr_db) && Number.isFinite(report.sqnr_fqvit_db)).toBe(true);
    expect(report.sqnr_db).toBeGreaterThanOrEqual(report.sqnr_fqvit_db - 0.1);
    console.log(`case ${index} (N ${c.tokens}, C ${c.dim}): chain ${report.chain.mismatches}/${report.chain.elements} differ from expect (max ${report.chain.max_abs_diff}); ` +
      `sqnr ${report.sqnr_db.toFixed(3)} dB vs FQ-ViT ${report.sqnr_fqvit_db.toFixed(3)} dB; attn_prob_fqvit ${report.stages.attn_prob_fqvit.mismatches}`);
  });

  it('--dump writes <index>-encoder.json with the chain\'s output codes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'encoder-dump-'));
    try {
      const path = dumpEncoder(join(dir, 'sub'), index, report.output);
      expect(path).toBe(join(dir, 'sub', `${index}-encoder.json`));
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ output: report.output });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the chain takes each step\'s input from the previous step, not from the reference', () => {
  it('a changed input token changes the chain\'s intermediates downstream (small case)', () => {
    const k = cases.find((x) => (x.raw.tokens as number) <= 17)!;
    const c = readEncoderCase(k.raw);
    const layers = encoderLayers(c);
    const base = encoderChain(layers, c.inputs);
    const top = 2 ** c.aBits - 1;
    const inputs = c.inputs.map((row, i) => (i === 0 ? row.map((x) => top - x) : row));
    const changed = encoderChain(layers, inputs);
    expect(changed.norm1_out[0]).not.toEqual(base.norm1_out[0]);
    expect(changed.resid2[0]).not.toEqual(base.resid2[0]);
    // Token 0 reaches other tokens only through attention.
    expect(changed.attn_out.slice(1)).not.toEqual(base.attn_out.slice(1));
  });
});

describe('the stage checks catch a wrong layer', () => {
  it('a shifted fc2 bias makes fc2_out differ, and encoderReportFailures names it', () => {
    const k = cases.find((x) => (x.raw.tokens as number) <= 17)!;
    const c = readEncoderCase(k.raw);
    const fc2 = c.layers.fc2;
    const spoiled = { ...c, layers: { ...c.layers, fc2: { ...fc2, bias: fc2.bias.map((b, n) => (n === 0 ? b + 3 * c.quantizers.fc2_out.scale : b)) } } };
    const report = encoderCaseReport(spoiled);
    expect(report.stages.fc2_out.mismatches).toBeGreaterThan(0);
    expect(report.stages.fc2_out.first).toMatch(/channel 0:/);
    expect(encoderReportFailures(report).some((f) => f.startsWith('fc2_out'))).toBe(true);
  });
});

describe('the GEMM steps are proven exact, or refused', () => {
  it('frac_bits 12 cannot give an exact requantizer: a SpecError names the layer and channel', () => {
    const c = readEncoderCase(cases[0]!.raw);
    expect(() => encoderLayers(c, { gemmFracBits: 12 })).toThrow(/^layers\.qkv\.w_scale\[\d+\]: .*raise frac_bits/);
  });
});
