// npm run verify -- --vectors: exit 0 when every case's RTL equals the model and the model is within its block's
// tolerance of the file's expected outputs, 1 when a case falls outside (codes, accumulators, calibration), 2 for a
// case whose block the project does not know. Cases are taken from ../shared/vectors and changed where the test says.
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BLOCK_NAMES, toleranceViolations, type CaseReport, type Tolerance } from '../generators/block.ts';
import { calibratePtf } from '../generators/layernorm/calibrate.ts';
import { BLOCKS } from '../generators/registry.ts';
import { tokenCodes } from '../generators/common/lanes.ts';
import { softmaxBlock } from '../generators/softmax/index.ts';
import { checkCaseBlocks, main as verifyMain } from '../scripts/verify.ts';
import { VERIFY_HELP } from '../scripts/help.generated.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { expectedCodes } from '../generators/encoder/index.ts';
import { runInProcess } from './setup/cli.ts';
import { STAGE_NAMES } from '../generators/encoder/report.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const scratch = mkdtempSync(join(tmpdir(), 'verify-vectors-'));
type Case = Record<string, unknown> & { block: string };
const publicCases = (JSON.parse(readFileSync(join(root, '../shared/vectors/fqvit-public.json'), 'utf8')) as { cases: Case[] }).cases;
const encoderCases = (JSON.parse(readFileSync(join(root, '../shared/vectors/fqvit-encoder-public.json'), 'utf8')) as { cases: Case[] }).cases;
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The smallest public case of a block (fewest output elements), so each run simulates little. */
function smallest(block: string): Case {
  const size = (c: Case) => JSON.stringify(c.expect).length;
  return copy(publicCases.filter((c) => c.block === block).sort((a, b) => size(a) - size(b))[0]!);
}

/** `npm run verify` on a vector file of `cases`: its main in-process (test/setup/cli.ts), or through tsx as a user runs it. */
async function verify(name: string, cases: Case[], extra: string[] = [], how: 'in-process' | 'tsx' = 'in-process') {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify({ source: 'test', cases }));
  const argv = ['--vectors', path, '--json', ...extra];
  const run = how === 'tsx'
    ? await execa(tsx, ['scripts/verify.ts', ...argv], { cwd: root, reject: false, env: { NODE_OPTIONS: '' } })
    : await runInProcess(verifyMain, argv);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  const reports = last.startsWith('{"cases"') ? (JSON.parse(last) as { cases: CaseReport[] }).cases : undefined;
  return { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, reports };
}

describe('tolerance: stated once per block, applied to a case report', () => {
  const base: CaseReport = { block: 'gemm', index: 0, elements: 10_000, rtl_vs_model: 0, model_vs_expect: 0, max_abs_diff: 0 };
  const tolerance: Tolerance = { maxAbsDiff: 1, maxMismatchFraction: 1e-3, reason: 'test' };

  it('every block states a tolerance', () => {
    for (const b of BLOCKS) {
      expect(b.tolerance.maxAbsDiff, b.name).toBeGreaterThanOrEqual(0);
      expect(b.tolerance.maxMismatchFraction, b.name).toBeGreaterThanOrEqual(0);
      expect(b.tolerance.maxMismatchFraction, b.name).toBeLessThan(0.01);
      expect(b.tolerance.reason.length, b.name).toBeGreaterThan(20);
    }
  });

  it('the README states each block\'s tolerance as the block does', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const b of BLOCKS) {
      const share = b.tolerance.maxMismatchFraction === 0 ? 'none' : `1 in ${Math.round(1 / b.tolerance.maxMismatchFraction).toLocaleString('en-US')}`;
      expect(readme, b.name).toContain(`| ${b.name} | ${b.tolerance.maxAbsDiff} | ${share} |`);
    }
  });

  it.each<[string, Partial<CaseReport>, RegExp | undefined]>([
    ['an exact case passes', {}, undefined],
    ['differences at the limits pass', { model_vs_expect: 10, max_abs_diff: 1 }, undefined],
    ['one difference more than the fraction allows fails', { model_vs_expect: 11, max_abs_diff: 1 }, /^model_vs_expect 11 of 10000 \(at most 10/],
    ['a difference of 2 fails', { model_vs_expect: 1, max_abs_diff: 2 }, /^max_abs_diff 2 \(at most 1\)$/],
    ['one accumulator that differs fails', { acc_vs_expect: 1 }, /^acc_vs_expect 1 \(must be 0\)$/],
    ['a calibration that differs fails', { calibration: 'differs' }, /^calibration differs/],
    ['a calibration that matches passes', { calibration: 'match', acc_vs_expect: 0 }, undefined],
    ['the RTL differing from the model fails', { rtl_vs_model: 1 }, /^rtl_vs_model 1 \(must be 0\)$/],
  ])('%s', (_what, change, message) => {
    const violations = toleranceViolations({ ...base, ...change }, tolerance);
    if (message) expect(violations).toEqual([expect.stringMatching(message)]);
    else expect(violations).toEqual([]);
  });
});

describe('tolerance of stages: an artifact stage within its own limit, every other stage exact', () => {
  const base: CaseReport = { block: 'attention', index: 0, elements: 100, rtl_vs_model: 0, model_vs_expect: 0, max_abs_diff: 0 };
  const tolerance: Tolerance = { maxAbsDiff: 0, maxMismatchFraction: 0, reason: 'test', artifactStages: { art: { maxAbsDiff: 1, maxMismatchFraction: 1e-3, reason: 'test' } } };
  const at = (art: number, maxAbs: number, exact = 0): Partial<CaseReport> => ({
    stages: { exact, art },
    stage_detail: { exact: { elements: 100, max_abs_diff: exact }, art: { elements: 2000, max_abs_diff: maxAbs } },
  });

  it.each<[string, Partial<CaseReport>, RegExp | undefined]>([
    ['differences at the artifact stage\'s limits pass', at(2, 1), undefined],
    ['one more than its share fails', at(3, 1), /^stage art 3 of 2000 \(at most 2/],
    ['a difference of 2 fails', at(1, 2), /^stage art max_abs_diff 2 \(at most 1\)$/],
    ['any mismatch in another stage fails', at(0, 0, 1), /^stage exact: 1 mismatches \(must be 0\)$/],
    ['an artifact stage without its detail cannot be checked, so it fails', { stages: { art: 1 } }, /^stage art: the report has no stage_detail/],
  ])('%s', (_what, change, message) => {
    const violations = toleranceViolations({ ...base, ...change }, tolerance);
    if (message) expect(violations).toEqual([expect.stringMatching(message)]);
    else expect(violations).toEqual([]);
  });
});

describe('tolerance of SQNR (encoder): the chain at least as accurate as the reference\'s run, less the margin', () => {
  const base: CaseReport = { block: 'encoder', index: 0, elements: 100, rtl_vs_model: 0, model_vs_expect: 0, max_abs_diff: 0 };
  const tolerance: Tolerance = { maxAbsDiff: 0, maxMismatchFraction: 0, reason: 'test', sqnrMarginDb: 0.1 };

  it.each<[string, Partial<CaseReport>, RegExp | undefined]>([
    ['a chain more accurate than the reference passes', { sqnr_db: 20, sqnr_fqvit_db: 19 }, undefined],
    ['a chain exactly the margin below passes', { sqnr_db: 19.9, sqnr_fqvit_db: 20 }, undefined],
    ['a chain further below fails', { sqnr_db: 19.85, sqnr_fqvit_db: 20 }, /^sqnr_db 19\.850 \(at least sqnr_fqvit_db 20\.000 - 0\.1 dB\)$/],
    ['a NaN SQNR fails', { sqnr_db: Number.NaN, sqnr_fqvit_db: 20 }, /^sqnr_db NaN/],
    ['a report without the figures cannot be checked, so it fails', {}, /^sqnr: the report has no sqnr_db/],
  ])('%s', (_what, change, message) => {
    const violations = toleranceViolations({ ...base, ...change }, tolerance);
    if (message) expect(violations).toEqual([expect.stringMatching(message)]);
    else expect(violations).toEqual([]);
  });

  it('a block without the margin ignores the figures', () => {
    expect(toleranceViolations({ ...base, sqnr_db: 1, sqnr_fqvit_db: 20 }, { ...tolerance, sqnrMarginDb: undefined })).toEqual([]);
  });
});

describe('npm run verify -- --vectors: exit status', () => {
  it('0 on unchanged public cases; a case of a known block that --blocks leaves out is skipped, even a broken one', async () => {
    const brokenGemm = { ...smallest('gemm'), expect_acc: 'not a matrix' };
    const run = await verify('ok.json', [smallest('softmax'), brokenGemm], ['--blocks', 'softmax']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.reports!.map((r) => [r.block, r.violations])).toEqual([['softmax', []]]);
  });

  it('1 when model codes differ from the file beyond the tolerance (softmax: one code off by 2)', async () => {
    const c = smallest('softmax');
    const row = (c.expect as Array<Array<number | null>>)[0]!;
    const i = row.findIndex((x) => x !== null && x < 13);
    row[i] = row[i]! + 2;
    const run = await verify('softmax-off.json', [c]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.reports![0]!.rtl_vs_model).toBe(0);
    expect(run.reports![0]!.violations).toContainEqual(expect.stringMatching(/^max_abs_diff 2 \(at most 1\)$/));
    expect(run.stdout).toMatch(/case 0 softmax FAILS: max_abs_diff 2/);
  });

  it('1 when an accumulator differs from expect_acc (gemm), even with every code equal', async () => {
    const c = smallest('gemm');
    (c.expect_acc as number[][])[0]![0]! += 1;
    const run = await verify('gemm-acc.json', [c]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.reports![0]!).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0, acc_vs_expect: 1, violations: ['acc_vs_expect 1 (must be 0)'] });
  });

  it('1 when the PTF calibration on the case\'s rows does not reproduce its alpha (layernorm)', async () => {
    const c = smallest('layernorm');
    const rows = c.calibration as number[][];
    const alpha = c.alpha as number[];
    // Shrink one widest channel's calibration data 64-fold: the observer must now pick a smaller scale for it.
    const channel = alpha.indexOf(Math.max(...alpha));
    for (const row of rows) row[channel] = row[channel]! / 64;
    const cal = calibratePtf(rows, c.in_bits as number);
    expect(cal.zeroPoint !== c.zero_point || cal.alpha.some((a, i) => a !== alpha[i])).toBe(true);
    const run = await verify('layernorm-cal.json', [c]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.reports![0]!).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0, calibration: 'differs', violations: ['calibration differs (must match)'] });
  });

  it('2 for a case whose block the project does not know, naming it, before anything runs', async () => {
    const unknown = 'no-such-block';
    expect(BLOCK_NAMES as readonly string[]).not.toContain(unknown);
    const run = await verify('unknown.json', [smallest('softmax'), { block: unknown }], ['--blocks', 'softmax']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: --vectors: case 1 of .*unknown\.json has block "no-such-block", which is not a block of this project \(known: .*\bgemm\b/);
    expect(run.stdout).toBe('');
  });

  it('0 on a public encoder case (4 bits, N 9, C 48) under Verilator: every stage, the chain, SQNR and RTL == model; --dump writes the chain\'s output', async () => {
    const c = copy(encoderCases.find((k) => k.block === 'encoder' && k.a_bits === 4)!);
    const dump = join(scratch, 'dump');
    const run = await verify('encoder.json', [c], ['--blocks', 'encoder', '--sim', 'verilator', '--dump', dump], 'tsx');
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const r = run.reports![0]!;
    expect(r).toMatchObject({ block: 'encoder', index: 0, elements: 9 * 48, rtl_vs_model: 0, model_vs_expect: 0, max_abs_diff: 0, violations: [] });
    expect(Object.keys(r.stages!).sort()).toEqual([...STAGE_NAMES].sort());
    expect(Object.keys(r.stage_detail!).sort()).toEqual([...STAGE_NAMES].sort());
    expect(r.sqnr_db!).toBeGreaterThanOrEqual(r.sqnr_fqvit_db! - 0.1);
    const chain = expectedCodes(readEncoderCase(c));
    expect(r.chain!.mismatches).toBe(chain.flat().filter((x, i) => x !== (c.expect as number[][]).flat()[i]).length);
    expect(JSON.parse(readFileSync(join(dump, '0-encoder.json'), 'utf8'))).toEqual({ output: chain });
    // The run's cycles beside the ideal: every MAC of the block (the four GEMMs and QK^T, PV) over the 4 × 4 array's 16.
    const k = readEncoderCase(c);
    const macs = k.tokens * (4 * k.dim * k.dim + 2 * k.dim * k.mlpHidden) + 2 * k.tokens * k.tokens * k.dim;
    expect(r.cycles).toMatchObject({ macs, array_macs_per_cycle: 16, ideal: macs / 16 });
    expect(r.cycles!.run).toBeGreaterThan(macs / 16);
    expect(r.cycles!.array_utilisation).toBeCloseTo(macs / 16 / r.cycles!.run, 12);
  });

  it('2 with --spec keys a vector case fixes, or with --bits, naming them, before anything runs', async () => {
    const spec = join(scratch, 'fixed.json');
    writeFileSync(spec, JSON.stringify({ softmax: { lanes: 4, in_bits: 4 } }));
    const fixed = await verify('spec-fixed.json', [smallest('softmax')], ['--spec', spec]);
    expect(fixed.exitCode).toBe(2);
    expect(fixed.stderr.trim()).toBe('error: --spec: softmax.in_bits is fixed by each vector case; with --vectors the section "softmax" may set only lanes');
    const bits = await verify('spec-bits.json', [smallest('softmax')], ['--bits', '4']);
    expect(bits.exitCode).toBe(2);
    expect(bits.stderr.trim()).toMatch(/^error: --bits: not used with --vectors/);
  });

  it('knows the cases a block runs under another name (encoder cases: attention, gelu, residual)', () => {
    expect(() => checkCaseBlocks('f.json', [{ block: 'encoder' }, { block: 'softmax' }])).not.toThrow();
    expect(() => checkCaseBlocks('f.json', [{ block: 'no-such-block' }])).toThrow(/known: .*\bencoder\b/);
  });
});

describe('verify --vectors --spec: the spec chooses the hardware each case runs on', () => {
  const topText = (dir: string, file: string) => readFileSync(join(dir, 'rtl', readdirSync(join(dir, 'rtl')).find((f) => f === file || f.endsWith(`_${file}`))!), 'utf8');

  it('softmax at 4 lanes (tkeep on the stream) on the smallest public case: RTL == model == the reference', async () => {
    const workDir = mkdtempSync(join(scratch, 'softmax-lanes-'));
    const r = await softmaxBlock.verifyCase(smallest('softmax'), 0, { workDir, hardware: { lanes: 4 }, stallPercent: 30, seed: 5 });
    expect(r).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0 });
    expect(topText(workDir, 'softmax_lis.v')).toMatch(/input\s+wire\s+\[3:0\]\s+s_axis_tkeep/);
  });

  it('the help names every key a block takes from --spec with --vectors', () => {
    const vectorsHelp = VERIFY_HELP.split('\n').find((l) => l.trimStart().startsWith('--vectors'))!;
    for (const block of BLOCKS) for (const key of block.caseHardware ?? []) expect(vectorsHelp, `${block.name}.${key}`).toMatch(new RegExp(`\\b${key}\\b[^;]*\\b${block.name}\\b`));
  });

  it("tokenCodes reads each token's codes from its beats, dropping the words past C in its last beat (hand-worked: C 5, 2 lanes)", () => {
    // Tokens [1 2 3 4 5] and [6 7 8 9 10], 4-bit words, lane 0 in the low bits: beats {2,1} {4,3} {0,5}, {7,6} {9,8} {0,10}
    const beats = [0x21n, 0x43n, 0x05n, 0x76n, 0x98n, 0x0an].map((data) => ({ data }));
    expect(tokenCodes(beats, 2, 4, 5)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(tokenCodes(beats, 1, 4, 3)).toEqual([1, 3, 5, 6, 8, 10]);
  });
});

