import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../generators/common/errors.ts';
import { expandConfigurations, shardOf, sweepIdentity, type SweepSpecFile } from '../generators/sweep/plan.ts';
import { frontIds, mergeReports, sweepMarkdown, sweepPlots, throughputFromManifest, type SweepReport, type SweepRow } from '../generators/sweep/report.ts';
import { measureAccuracy } from '../generators/accuracy/index.ts';
import { paretoFront, scatterChartSvg } from '../generators/sweep/scatter.ts';
import { SWEEP_HELP } from '../scripts/help.generated.ts';
import { main, parseBitsRange, parseShard, planSweep, splitMerge, writeReport } from '../scripts/sweep.ts';
import { runInProcess } from './setup/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const script = join(root, 'scripts/sweep.ts');
/** Through tsx, as a user runs it (the runs that synthesize or write a report). */
const sweep = (args: string[]) => execa(tsx, [script, ...args], { cwd: root, reject: false });
/** Its main in-process (test/setup/cli.ts): the refusals, which end before any work. */
const sweepMain = (args: string[]) => runInProcess(main, args);

function expectUsageError(run: { exitCode?: number; stderr: string }, message: RegExp): void {
  expect(run.exitCode, run.stderr).toBe(2);
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(/^error: /);
  expect(run.stderr).toMatch(message);
}

describe('--bits of a sweep', () => {
  it('takes lists, ranges and both, ascending and without repeats', () => {
    expect(parseBitsRange('4,6,8')).toEqual([4, 6, 8]);
    expect(parseBitsRange('2..8')).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(parseBitsRange('8, 2..4, 3')).toEqual([2, 3, 4, 8]);
  });

  it('names --bits and the allowed range on bad input', () => {
    expect(() => parseBitsRange('8..2')).toThrow(/--bits: a range must be LOW\.\.HIGH/);
    expect(() => parseBitsRange('1..4')).toThrow(/--bits: must be an integer from 2 to 16/);
    expect(() => parseBitsRange('4,x')).toThrow(UsageError);
    expect(() => parseBitsRange(undefined)).toThrow(/--bits: required/);
  });
});

describe('configurations and shards', () => {
  const specs: SweepSpecFile[] = [
    { path: 'a.json', blocks: { softmax: { max_length: 8 } } },
    { path: 'b.json', blocks: { softmax: { max_length: 16 }, gemm: { rows: 2 } } },
  ];
  const configs = expandConfigurations(['gemm', 'layernorm', 'softmax'], [2, 3, 4, 5, 6, 7, 8], specs);

  it('is the cross product in a fixed order, a block without a section in a file taking its defaults once', () => {
    // gemm: defaults (a.json has no gemm section) and b.json's; layernorm: defaults only; softmax: a.json and b.json.
    expect(configs).toHaveLength(7 * (2 + 1 + 2));
    expect(configs.slice(0, 2).map((c) => c.id)).toEqual(['gemm-bits2', 'gemm-bits3']);
    expect(configs[7]!.id).toMatch(/^gemm-bits2-[0-9a-f]{8}$/);
    expect(configs[7]!.specPath).toBe('b.json');
    expect(configs.filter((c) => c.block === 'layernorm').every((c) => c.specPath === null)).toBe(true);
    expect(new Set(configs.map((c) => c.id)).size).toBe(configs.length);
    expect(expandConfigurations(['gemm', 'layernorm', 'softmax'], [8, 2, 3, 4, 5, 6, 7], specs)).toEqual(configs);
  });

  it.each([1, 2, 3, 4, 7, 40])('split into %i shards: disjoint, together every configuration, sizes within one', (n) => {
    const shards = Array.from({ length: n }, (_, i) => shardOf(configs, { index: i + 1, count: n }));
    const all = shards.flat().map((c) => c.id);
    expect(all).toHaveLength(configs.length); // no configuration twice ...
    expect(new Set(all)).toEqual(new Set(configs.map((c) => c.id))); // ... and none left out
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('gives every sweep its own identity', () => {
    const id = sweepIdentity(configs, { device: 'hx8k', seed: 1 });
    expect(sweepIdentity(configs, { seed: 1, device: 'hx8k' })).toBe(id);
    expect(sweepIdentity(configs, { device: 'up5k', seed: 1 })).not.toBe(id);
    expect(sweepIdentity(configs.slice(1), { device: 'hx8k', seed: 1 })).not.toBe(id);
  });

  it('reads --shard i/n and refuses anything else naming the parameter and the form', () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(parseShard(undefined)).toBeUndefined();
    for (const bad of ['0/2', '3/2', 'a/b', '1/0', '1', '1/2/3', '-1/2']) {
      expect(() => parseShard(bad), bad).toThrow(/^--shard: must be i\/n with integers 1 <= i <= n/);
    }
  });

  it('takes the folders after --merge up to the next option', () => {
    expect(splitMerge(['--merge', 'a', 'b', '--out', 'm'])).toEqual({ merge: ['a', 'b'], rest: ['--out', 'm'] });
    expect(splitMerge(['--out', 'm', '--merge', 'a'])).toEqual({ merge: ['a'], rest: ['--out', 'm'] });
    expect(splitMerge(['--bits', '4'])).toEqual({ rest: ['--bits', '4'] });
    expect(() => splitMerge(['--merge', '--out', 'm'])).toThrow(/--merge: needs the shard folders/);
  });
});

describe('throughput from the block manifest', () => {
  it('reads throughput.elements_per_cycle, else 1 / cycles_per_element, else says there is none', () => {
    expect(throughputFromManifest({ throughput: { elements_per_cycle: 1, unit: 'k-step beats (16 MACs) per cycle', condition: 'no stalls' } }))
      .toEqual({ per_cycle: 1, unit: 'k-step beats (16 MACs) per cycle', condition: 'no stalls', read: 'rtl/manifest.json throughput.elements_per_cycle' });
    expect(throughputFromManifest({ cycles_per_element: 2 })).toMatchObject({ per_cycle: 0.5, read: expect.stringMatching(/cycles_per_element/) });
    expect(throughputFromManifest({})).toMatchObject({ per_cycle: null, read: expect.stringMatching(/no throughput/) });
  });
});

describe('Pareto front', () => {
  it('keeps the points nothing beats in both logic cells and error', () => {
    // (error, LC): (1, 100) and (0.5, 200) trade off; (1, 300) is beaten by both; (0.25, 200) beats (0.5, 200).
    const points = [{ x: 1, y: 100 }, { x: 0.5, y: 200 }, { x: 1, y: 300 }, { x: 0.25, y: 200 }];
    expect(paretoFront(points)).toEqual([{ x: 1, y: 100 }, { x: 0.25, y: 200 }]);
  });

  it('is drawn with the front filled and joined, the same bytes every time', () => {
    const chart = {
      title: 'softmax', xLabel: 'mean_abs_error', yLabel: 'logic cells',
      points: [
        { x: 0.1, y: 100, label: '2b', title: 'a', front: true },
        { x: 0.001, y: 400, label: '8b', title: 'b', front: true },
        { x: 0.1, y: 300, label: '3b', title: 'c', front: false },
      ],
    };
    const svg = scatterChartSvg(chart);
    expect(svg).toBe(scatterChartSvg(chart));
    expect(svg).toContain('(log scale)'); // errors span a factor of 100
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle[^>]*fill="#d62728"[^>]*><title>/g)).toHaveLength(2);
  });
});

/** A report with made-up figures (merge only moves rows; the figures are not under test here). */
function fakeReport(ids: string[], id = 'sweep-a'): SweepReport {
  const rows: SweepRow[] = ids.map((rowId, i) => ({
    id: rowId, block: rowId.split('-')[0]!, bits: 2 + i, spec: null, device: 'hx8k',
    lc: 100 * (i + 1), lut: 50, ff: 40, carry: 10, bram: 1, dsp: 0, fmax_mhz: 90 + i, fits: true,
    throughput: { per_cycle: 1, unit: 'elements per cycle', read: 'rtl/manifest.json throughput.elements_per_cycle' },
    accuracy: { block: rowId.split('-')[0]!, inputs: 'made up', primary: 'mean_abs_error', metrics: [{ name: 'mean_abs_error', value: 1 / (i + 1), meaning: 'made up' }] },
  }));
  return { sweep: { id, configurations: ids, options: { device: 'hx8k', seed: 1 } }, shard: null, merged_from: 0, generator: 'g', tools: { yosys: 'y', 'nextpnr-ice40': 'n' }, rows };
}

describe('encoder rows: an SQNR (higher is better) and designs that do not fit', () => {
  // Figures made up but for the accuracy, which is the encoder's real measure of the default instance at 2 to 4 bits
  const rows: SweepRow[] = [2, 3, 4].map((bits, i) => ({
    ...fakeReport(['encoder-bits2']).rows[0]!, id: `encoder-bits${bits}`, block: 'encoder', bits,
    lc: [5000, 6000, 9000][i]!, fits: bits !== 4, fmax_mhz: bits !== 4 ? 60 : null,
    accuracy: measureAccuracy('encoder', bits, undefined),
  }));
  const report: SweepReport = { ...fakeReport([]), sweep: { id: 's', configurations: rows.map((r) => r.id), options: { device: 'hx8k', seed: 1, target_mhz: 100 } }, rows };
  const sqnr = rows.map((r) => r.accuracy.metrics.find((m) => m.name === 'sqnr_float_block_db')!.value);

  it('names the metric beside each figure, and the front keeps the higher SQNR for the cells among designs that fit', () => {
    const md = sweepMarkdown(report);
    expect(sqnr[1]).toBeGreaterThan(sqnr[0]!); // 3 bits more accurate than 2 (both fit; 3 bits has more cells)
    expect(md).toContain(`| encoder-bits2 | 5000 |`);
    expect(md).toContain(`sqnr_float_block_db ${Number(sqnr[0]!.toPrecision(4))}`);
    expect(md).toMatch(/- encoder \(sqnr_float_block_db, higher is better\): encoder-bits2, encoder-bits3; not on the front as they do not fit: encoder-bits4/);
    expect(md).toMatch(/\| encoder-bits4 \| 9000 \|.*\| does not fit \|/);
    expect(md).toMatch(/\| encoder-bits2 \| 5000 \|.*\| 60 \(below the 100 MHz target\) \|/);
    expect(frontIds(rows)).toEqual(new Set(['encoder-bits2', 'encoder-bits3']));
  });

  it('plots the design that does not fit as a cross, labelled, on a linear dB axis', () => {
    const svg = sweepPlots(report)['pareto-encoder.svg']!;
    expect(svg).toContain('4b (does not fit)');
    expect(svg).toContain('>2b 60 MHz<'); // fits, but below the timing target
    expect(svg.match(/<path d="M[^"]*" stroke="#1f77b4" stroke-width="2"><title>encoder-bits4: 9000 LC \(does not fit\)/g)).toHaveLength(1);
    expect(svg).toContain('sqnr_float_block_db against float64 (higher is better)');
    expect(svg).not.toContain('(log scale)');
  });

  it('a block whose rows have different metrics gets one plot per metric', () => {
    const mixed = { ...report, rows: [rows[0]!, { ...rows[1]!, accuracy: { ...rows[1]!.accuracy, primary: 'other_db', metrics: [{ name: 'other_db', value: 1, meaning: 'm', better: 'higher' as const }] } }] };
    expect(Object.keys(sweepPlots(mixed)).sort()).toEqual(['fmax.svg', 'pareto-encoder-other_db.svg', 'pareto-encoder-sqnr_float_block_db.svg']);
  });
});

describe('npm run sweep -- --merge', () => {
  const ids = ['softmax-bits2', 'softmax-bits3', 'softmax-bits4', 'gemm-bits2', 'gemm-bits3'];
  const whole = fakeReport(ids);
  const dir = mkdtempSync(join(tmpdir(), 'sweep-merge-'));
  const shardDirs = [1, 2, 3].map((i) => {
    const part = { ...whole, shard: { index: i, count: 3 }, rows: shardOf(whole.rows, { index: i, count: 3 }) };
    return writeReport(join(dir, `shard${i}`), part);
  });

  it('round-trips: the shards of a report merge back into it, in the sweep\'s order whatever the order given', async () => {
    const run = await sweep(['--merge', shardDirs[2]!, shardDirs[0]!, shardDirs[1]!, '--out', join(dir, 'merged')]);
    expect(run.exitCode, run.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(join(dir, 'merged', 'report.json'), 'utf8')) as SweepReport;
    expect(merged).toEqual({ ...whole, merged_from: 3 });
    expect(readFileSync(join(dir, 'merged', 'report.md'), 'utf8')).toContain('Merged from 3 shard reports: 5 of 5 configurations.');
    for (const plot of ['pareto-softmax.svg', 'pareto-gemm.svg', 'fmax.svg']) expect(readFileSync(join(dir, 'merged', plot), 'utf8')).toMatch(/^<svg/);
  });

  it('refuses, with exit status 2 and one line, duplicates, other sweeps, and folders without a report', async () => {
    const other = writeReport(join(dir, 'other'), fakeReport(['softmax-bits5'], 'sweep-b'));
    writeFileSync(join(dir, 'broken.json'), '{');
    const [dup, foreign, missing, none, extra] = await Promise.all([
      sweepMain(['--merge', shardDirs[0]!, shardDirs[0]!, '--out', join(dir, 'm1')]),
      sweepMain(['--merge', shardDirs[0]!, other, '--out', join(dir, 'm2')]),
      sweepMain(['--merge', shardDirs[0]!, join(dir, 'nothing-here'), '--out', join(dir, 'm3')]),
      sweepMain(['--merge', '--out', join(dir, 'm4')]),
      sweepMain(['--merge', shardDirs[0]!, '--out', join(dir, 'm5'), '--bits', '4']),
    ]);
    expectUsageError(dup, /--merge: configuration softmax-bits2 is in both/);
    expectUsageError(foreign, /--merge: .*other is from a different sweep \(sweep id sweep-b, .* has sweep-a\)/);
    expectUsageError(missing, /--merge: .*nothing-here has no report\.json/);
    expectUsageError(none, /--merge: needs the shard folders/);
    expectUsageError(extra, /Unknown option '--bits'.*allowed options: --out, --help/);
    expect(() => mergeReports([])).toThrow(/--merge/);
  });
});

describe('npm run sweep', () => {
  it('refuses a bad --shard with exit status 2 and one line naming it and its form', async () => {
    const runs = await Promise.all(['0/2', '3/2', 'a/b'].map((s) => sweepMain(['--blocks', 'softmax', '--bits', '2', '--out', join(tmpdir(), 'unused'), '--shard', s])));
    for (const run of runs) expectUsageError(run, /--shard: must be i\/n with integers 1 <= i <= n/);
  });

  it('sweeps every block with an accuracy measure by default, and refuses one without, naming those it takes', async () => {
    expect([...new Set(planSweep({ bits: '4' }).configs.map((c) => c.block))]).toEqual(['gemm', 'layernorm', 'softmax', 'encoder']);
    const run = await sweepMain(['--blocks', 'softmax,attention', '--bits', '4', '--out', join(tmpdir(), 'unused')]);
    expectUsageError(run, /--blocks: attention has no accuracy measure of its own .*; measured blocks: gemm, layernorm, softmax, encoder$/);
  });

  it('refuses a missing --bits or --out and a bad spec section in any shard, and prints its generated help', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'sweep-spec-')), 'bad.json');
    writeFileSync(bad, JSON.stringify({ softmax: { max_length: 0 } }));
    const [noBits, noOut, badSpec, help] = await Promise.all([
      sweepMain(['--blocks', 'softmax', '--out', join(tmpdir(), 'unused')]),
      sweepMain(['--blocks', 'softmax', '--bits', '2..3']),
      // The bad configurations are in shard 2 of 2 (softmax); shard 1 (gemm) refuses them too, before any synthesis.
      sweepMain(['--blocks', 'gemm,softmax', '--bits', '4', '--spec', bad, '--shard', '1/2', '--out', join(tmpdir(), 'unused')]),
      sweepMain(['--help']),
    ]);
    expectUsageError(noBits, /--bits: required/);
    expectUsageError(noOut, /--out: required/);
    expectUsageError(badSpec, /softmax\.max_length: must be an integer from 1 to 4096 \(got 0\)/);
    expect(help.stdout).toBe(SWEEP_HELP);
  });

  // Two configurations of a one-MAC GEMM (the smallest measured block, about 500 LC) through the real flow, as two
  // shards at once, with the project's synthesis cache (build/synth-cache): about 45 s of CPU when the cache is cold,
  // seconds when warm. Speed is not asserted.
  it('runs two small GEMM configurations as two shards, merges them, and serves a rerun from the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-small-'));
    const spec = join(dir, 'tiny.json');
    writeFileSync(spec, JSON.stringify({ gemm: { rows: 1, cols: 1, max_k: 1, frac_bits: 8 } }));
    const common = ['--blocks', 'gemm', '--bits', '2,3', '--spec', spec, '--jobs', '1'];
    const shards = await Promise.all([1, 2].map((i) => sweep([...common, '--shard', `${i}/2`, '--out', join(dir, `shard${i}`)])));
    for (const run of shards) expect(run.exitCode, run.stderr).toBe(0);
    const merge = await sweep(['--merge', join(dir, 'shard1'), join(dir, 'shard2'), '--out', join(dir, 'merged')]);
    expect(merge.exitCode, merge.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(join(dir, 'merged', 'report.json'), 'utf8')) as SweepReport;
    expect(merged.rows.map((r) => [r.block, r.bits])).toEqual([['gemm', 2], ['gemm', 3]]);
    for (const r of merged.rows) {
      expect(r.id).toMatch(/^gemm-bits[23]-[0-9a-f]{8}$/);
      for (const field of ['lc', 'lut', 'ff', 'fmax_mhz'] as const) expect(r[field], `${r.id} ${field}`).toBeGreaterThan(0);
      expect(r.bram + r.dsp).toBeGreaterThanOrEqual(0);
      expect(r.fits).toBe(true);
      expect(r.throughput.per_cycle).toBeGreaterThan(0);
      expect(r.throughput.read).toMatch(/^rtl\/manifest\.json /);
      expect(r.accuracy.metrics.map((m) => m.name)).toEqual(['rms_error', 'max_abs_error']);
      expect(r.accuracy.inputs).toMatch(/A \d+ × 1, W \d+ × 1/);
    }
    // The whole sweep in one run: every tool job from the cache, the same rows as the merged shards.
    const again = await sweep([...common, '--out', join(dir, 'whole')]);
    expect(again.exitCode, again.stderr).toBe(0);
    const steps = again.stderr.split('\n').filter((l) => /^\[\d+\/\d+\]/.test(l));
    expect(steps).toHaveLength(6);
    for (const s of steps) expect(s).toMatch(/cached/);
    const whole = JSON.parse(readFileSync(join(dir, 'whole', 'report.json'), 'utf8')) as SweepReport;
    expect(whole.rows).toEqual(merged.rows);
    expect(whole.sweep).toEqual(merged.sweep);
    expect(readFileSync(join(dir, 'merged', 'report.md'), 'utf8')).toMatch(/\| gemm-bits2-[0-9a-f]{8} \| \d+ \|/);
    expect(readFileSync(join(dir, 'merged', 'pareto-gemm.svg'), 'utf8')).toContain('Pareto front');
  });

  // `npm run synth` on the 2-bit configuration of that sweep, as a user runs it (cwd the project: its synthesis cache):
  // the same design, so after the sweep above every tool job comes from the cache (the flow itself is under test above
  // and in test/synth.test.ts on every family). What is under test is the command: its rows, report, plots and JSON.
  it('npm run synth on the sweep\'s one-MAC GEMM writes its report, plots and JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-cli-'));
    const spec = join(dir, 'tiny.json');
    writeFileSync(spec, JSON.stringify({ gemm: { rows: 1, cols: 1, max_k: 1, frac_bits: 8 } }));
    const run = await execa(tsx, [join(root, 'scripts/synth.ts'), '--bits', '2', '--blocks', 'gemm', '--spec', spec, '--out', join(dir, 'out'), '--families', 'ice40', '--json'], { cwd: root });
    const steps = run.stderr.split('\n').filter((l) => /^\[\d+\/\d+\]/.test(l));
    expect(steps, run.stderr).toHaveLength(3);
    const printed = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rows: Array<Record<string, unknown>> };
    expect(printed.rows.map((r) => [r.block, r.device, r.macs])).toEqual([['gemm', 'hx8k', 1]]);
    const hx8k = printed.rows[0]!;
    for (const field of ['lc', 'lut', 'ff', 'carry', 'fmax_mhz']) expect(hx8k[field], field).toBeGreaterThan(0);
    expect(hx8k.lc).toBeLessThan(7680);
    expect(hx8k.dsp).toBe(0); // the HX8K has none
    const folder = join(dir, 'out', String(hx8k.configuration));
    const report = JSON.parse(readFileSync(join(folder, 'report.json'), 'utf8')) as { rows: Array<Record<string, unknown>> };
    const fields = ['block', 'device', 'lc', 'lut', 'ff', 'carry', 'bram', 'dsp', 'fmax_mhz', 'macs'];
    const pick = (r: Record<string, unknown>) => Object.fromEntries(fields.map((f) => [f, r[f]]));
    expect(report.rows.map(pick)).toEqual(printed.rows.map(pick));
    expect(readFileSync(join(folder, 'report.md'), 'utf8')).toContain(`| gemm | hx8k | ${hx8k.lc} |`);
    for (const plot of ['resources.svg', 'fmax.svg']) expect(readFileSync(join(folder, plot), 'utf8')).toMatch(/^<svg/);
  });
});
