/**
 * npm run sweep -- --blocks LIST --bits 2..8 [--spec FILE ...] --out DIR [--shard i/n]: every block at every width
 * (and spec file), each configuration synthesized, placed and routed by the synth flow (scripts/synth.ts, its cache
 * under build/synth-cache), with its throughput (the block's manifest) and its accuracy against float64
 * (generators/accuracy). `--shard i/n` runs the i-th of n disjoint parts; `--merge DIR1 DIR2 ... --out DIR` combines
 * the shards' reports. Writes report.json, report.md and SVG plots into DIR.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { measureAccuracy, MEASURED_BLOCKS, requireMeasure } from '../generators/accuracy/index.ts';
import { UsageError } from '../generators/common/errors.ts';
import { checkWritableFolder, writeFolderAtomic, type FileSet } from '../generators/common/files.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../generators/common/verilog.ts';
import { blockByName } from '../generators/registry.ts';
import { DEFAULT_SAMPLES } from '../generators/accuracy/types.ts';
import { synthesizeDesign, type DesignReport } from '../generators/synth/flow.ts';
import { ToolError, ToolRunner, TOOL_VERSIONS } from '../generators/synth/tools.ts';
import { expandConfigurations, shardOf, sweepIdentity, type Shard, type SweepConfig } from '../generators/sweep/plan.ts';
import { mergeReports, missingConfigurations, sweepMarkdown, sweepPlots, throughputFromManifest, type SweepReport, type SweepRow } from '../generators/sweep/report.ts';
import { BITS_MAX, BITS_MIN, parseBits, parseBlocks, parseCli, readSpecFile, runMain } from './cli.ts';
import { generateConfiguration } from './gen.ts';
import { SWEEP_HELP } from './help.generated.ts';
import { designFromGenerated, jobsPerDesign, parseFlow, progressPrinter, SYNTH_CACHE } from './synth.ts';

export interface SweepArgs {
  blocks?: string;
  bits?: string;
  spec?: string[];
  device?: string;
  out?: string;
  shard?: string;
  seed?: string;
  jobs?: string;
}

/** --bits of a sweep: widths and ranges, comma-separated (`4,6,8`, `2..8`, `2..4,8`), each 2 to 16; ascending. */
export function parseBitsRange(value: string | undefined): number[] {
  if (value === undefined) throw new UsageError('--bits: required, a list or a range of widths (e.g. 4,6,8 or 2..8)');
  const widths = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim())) {
    const range = /^(.*)\.\.(.*)$/.exec(part);
    if (!range) { widths.add(parseBits(part)); continue; }
    const [lo, hi] = [parseBits(range[1]!.trim()), parseBits(range[2]!.trim())];
    if (lo > hi) throw new UsageError(`--bits: a range must be LOW..HIGH with LOW <= HIGH, each ${BITS_MIN} to ${BITS_MAX} (got ${JSON.stringify(part)})`);
    for (let b = lo; b <= hi; b++) widths.add(b);
  }
  return [...widths].sort((a, b) => a - b);
}

/** --shard i/n: the i-th of n parts, 1 <= i <= n. */
export function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 10000) {
    throw new UsageError(`--shard: must be i/n with integers 1 <= i <= n <= 10000, e.g. 1/4 (got ${JSON.stringify(value)})`);
  }
  return { index, count };
}

/**
 * Splits `--merge DIR1 DIR2 ...` (the folders up to the next --option) from the other arguments, which node's
 * parseArgs would refuse as positionals.
 */
export function splitMerge(argv: readonly string[]): { merge?: string[]; rest: string[] } {
  const at = argv.indexOf('--merge');
  if (at < 0) return { rest: [...argv] };
  let end = at + 1;
  while (end < argv.length && !argv[end]!.startsWith('--')) end++;
  const merge = argv.slice(at + 1, end);
  if (merge.length === 0) throw new UsageError('--merge: needs the shard folders, --merge DIR1 DIR2 ... --out DIR');
  return { merge, rest: [...argv.slice(0, at), ...argv.slice(end)] };
}

/** The configurations of a sweep, and its identity (every shard of the sweep computes the same). */
export function planSweep(args: SweepArgs): { configs: SweepConfig[]; identity: SweepReport['sweep']; flow: ReturnType<typeof parseFlow> } {
  // Every block with an accuracy measure by default; a block without one is refused in every shard, at once
  const blocks = args.blocks === undefined ? MEASURED_BLOCKS : parseBlocks(args.blocks);
  blocks.forEach(requireMeasure);
  const bits = parseBitsRange(args.bits);
  const specs = (args.spec ?? []).map((path) => ({ path, blocks: readSpecFile(path)!.blocks }));
  const flow = parseFlow({ device: args.device, seed: args.seed, jobs: args.jobs, families: 'ice40' });
  const configs = expandConfigurations(blocks, bits, specs);
  // Every configuration's spec section is checked in every shard, so that a bad one fails all shards alike, at once.
  for (const c of configs) blockByName(c.block)!.resolve(c.bits, c.section);
  // What changes a figure: the configurations, the part, the placer seed, the accuracy inputs and the tools.
  const options = { device: flow.device, seed: flow.seed, target_mhz: flow.targetMhz, accuracy: DEFAULT_SAMPLES, generator: `${GENERATOR_NAME} ${GENERATOR_VERSION}`, tools: TOOL_VERSIONS };
  return { configs, identity: { id: sweepIdentity(configs, options), configurations: configs.map((c) => c.id), options }, flow };
}

/** Runs the sweep (or its shard) and writes DIR. */
export async function runSweep(args: SweepArgs): Promise<SweepReport> {
  if (args.out === undefined) throw new UsageError('--out: required, the folder the report is written into');
  const shard = parseShard(args.shard);
  const { configs, identity, flow } = planSweep(args);
  checkWritableFolder('--out', args.out);
  const mine = shard ? shardOf(configs, shard) : configs;
  const prepared = mine.map((c) => {
    const generated = generateConfiguration({ bits: String(c.bits), blocks: c.block, spec: c.specPath ?? undefined });
    const manifest = JSON.parse(generated.files.get(`${c.block}/rtl/manifest.json`)!) as Record<string, unknown>;
    return {
      config: c,
      design: designFromGenerated(generated, c.block, c.id),
      throughput: throughputFromManifest(manifest),
      accuracy: measureAccuracy(c.block, c.bits, c.section),
    };
  });
  process.stderr.write(`sweep ${identity.id}: ${mine.length} of ${configs.length} configurations${shard ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
  const runner = new ToolRunner({ cacheDir: SYNTH_CACHE, parallel: flow.jobs });
  const onStep = progressPrinter(() => prepared.length * jobsPerDesign(flow));
  let designs: DesignReport[];
  try {
    designs = await Promise.all(prepared.map((p) => synthesizeDesign(p.design, flow, runner, onStep)));
  } catch (err) {
    runner.cancel();
    throw err;
  }
  const rows: SweepRow[] = prepared.map((p, i) => {
    const r = designs[i]!.rows.find((x) => x.device === flow.device)!;
    return {
      id: p.config.id,
      block: p.config.block,
      bits: p.config.bits,
      spec: p.config.specHash,
      device: r.device,
      lc: r.lc,
      lut: r.lut,
      ff: r.ff,
      carry: r.carry,
      bram: r.bram,
      dsp: r.dsp,
      fmax_mhz: r.fmax_mhz,
      fits: r.routed?.fits ?? true,
      throughput: p.throughput,
      accuracy: p.accuracy,
    };
  });
  const report: SweepReport = { sweep: identity, shard: shard ?? null, merged_from: 0, generator: `${GENERATOR_NAME} ${GENERATOR_VERSION}`, tools: { ...TOOL_VERSIONS }, rows };
  writeReport(args.out, report);
  return report;
}

/** report.json, report.md and the plots, written as the folder DIR (replacing it). */
export function writeReport(out: string, report: SweepReport): string {
  const files: FileSet = new Map([
    ['report.json', JSON.stringify(report, null, 2) + '\n'],
    ['report.md', sweepMarkdown(report)],
    ...Object.entries(sweepPlots(report)),
  ]);
  const target = writeFolderAtomic(dirname(out), basename(out), files);
  process.stderr.write(`wrote ${join(target, 'report.json')}, report.md, ${Object.keys(sweepPlots(report)).join(', ')}\n`);
  return target;
}

/** A shard's report.json, checked enough that a wrong folder gives one clear line. */
export function readShardReport(dir: string): SweepReport {
  const path = join(dir, 'report.json');
  if (!existsSync(path)) throw new UsageError(`--merge: ${dir} has no report.json (a sweep's --out folder is needed)`);
  let report: SweepReport;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as SweepReport;
  } catch {
    throw new UsageError(`--merge: ${path} is not valid JSON`);
  }
  if (typeof report?.sweep?.id !== 'string' || !Array.isArray(report.sweep.configurations) || !Array.isArray(report.rows)) {
    throw new UsageError(`--merge: ${path} is not a sweep report (no sweep.id, sweep.configurations or rows)`);
  }
  return report;
}

export function runMerge(dirs: readonly string[], out: string | undefined): SweepReport {
  if (out === undefined) throw new UsageError('--out: required, the folder the merged report is written into');
  const merged = mergeReports(dirs.map((dir) => ({ dir, report: readShardReport(dir) })));
  checkWritableFolder('--out', out);
  const missing = missingConfigurations(merged);
  if (missing.length) process.stderr.write(`warning: ${missing.length} of ${merged.sweep.configurations.length} configurations are in no shard: ${missing.join(', ')}\n`);
  writeReport(out, merged);
  return merged;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { merge, rest } = splitMerge(argv);
  if (merge) {
    const args = parseCli(rest, { out: { type: 'string' }, help: { type: 'boolean' } });
    if (args.help) { process.stdout.write(`${SWEEP_HELP}\n`); return 0; }
    runMerge(merge, args.out);
    return 0;
  }
  const args = parseCli(rest, {
    blocks: { type: 'string' },
    bits: { type: 'string' },
    spec: { type: 'string', multiple: true },
    device: { type: 'string' },
    out: { type: 'string' },
    shard: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help) { process.stdout.write(`${SWEEP_HELP}\n`); return 0; }
  try {
    await runSweep(args);
  } catch (err) {
    if (err instanceof ToolError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  return 0;
}

if (process.argv[1]?.endsWith('sweep.ts')) runMain(main);
