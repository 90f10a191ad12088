/**
 * npm run bench: for each block at each --bits, the generated block beside its hand-written behavioural baseline
 * (baselines/), both simulated on the block's default problem against the golden model, both synthesized and placed
 * and routed on iCE40 in the same run; plus the run times of gen, verify and synth. Writes docs/benchmarks.md.
 */
import { execaSync } from 'execa';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../generators/common/errors.ts';
import { writeFolderAtomic } from '../generators/common/files.ts';
import { blockByName } from '../generators/registry.ts';
import { baselineFor, gemmArrayBaseline } from '../generators/synth/baselines.ts';
import { drainCycles, gemmArrayTop } from '../generators/gemm/rtl.ts';
import type { GemmSpec } from '../generators/gemm/spec.ts';
import { synthesizeDesign, type DesignReport, type SynthDesign } from '../generators/synth/flow.ts';
import type { RowDetails } from '../generators/synth/report.ts';
import { fmaxCell } from '../generators/synth/summary.ts';
import { NotCachedError, ToolError, ToolRunner, TOOL_VERSIONS } from '../generators/synth/tools.ts';
import { parseBlocks, parseCli, readSpecFile, runMain } from './cli.ts';
import type { BlockManifest } from '../generators/common/manifest.ts';
import { expandConfigurations, type SweepConfig } from '../generators/sweep/plan.ts';
import { throughputFromManifest } from '../generators/sweep/report.ts';
import { generateConfiguration } from './gen.ts';
import { BENCH_HELP } from './help.generated.ts';
import { designFromGenerated, parseBitsList, parseFlow, progressPrinter, SYNTH_CACHE } from './synth.ts';

const WORK = resolve('build', 'bench');

/**
 * Blocks that run a batch (every step on all N tokens before the first output) and whose throughput is set by their
 * MACs (the attention head: N·N·head_dim MACs a head; the encoder: MACs a cycle of its array); an element per cycle
 * and lane is not their target, and their row gives the cycles per output measured in simulation instead of a
 * manifest figure.
 */
const BATCH_BLOCKS: readonly string[] = ['attention', 'encoder'];

/** Published reference points (SwiftTron, an I-BERT-style RTL, through the same Yosys and nextpnr on iCE40). */
const REFERENCES = [
  { block: 'softmax', lc: 6804, fmax_mhz: 3.2 },
  { block: 'layernorm', lc: 5531, fmax_mhz: 1.9 },
];

interface Side {
  lc: number | null;
  fmax_mhz: number | null;
  /** Fmax, or "does not fit (...)" when the design is larger than the device. */
  fmax_text: string;
  /** The routed critical path, summarized (why the Fmax is what it is). */
  critical_path: string;
  /** Cycles per output element measured in simulation of the block's default problem, no stalls. */
  cycles_per_output: number;
  elements: number;
  mismatches: number;
  synth_seconds: number | null;
}

export interface BenchRow {
  block: string;
  bits: number;
  /** The configuration: `softmax-bits4`, or `softmax-bits4-<hash>` for a --spec variant (hash of its section). */
  id: string;
  /** The --spec file this variant comes from, or null (the block's defaults). */
  spec: string | null;
  /** Lanes of the generated block (1 for a block without lanes). */
  lanes: number;
  device: string;
  /** cycles_per_element: the manifest's steady-state figure as cycles per element (null: a batch block, see BATCH_BLOCKS). */
  generated: Side & { cycles_per_element: number | null; gen_seconds: number; verify_seconds: number };
  baseline: (Side & { note: string }) | null;
  lc_ratio: number | null;
  fmax_ratio: number | null;
  cycles_ratio: number | null;
  /** fmax_100 null: not measured yet; lanes_per_cycle: `lanes` elements a cycle in the manifest's steady state (null: not a target of a batch block); fewer_lc null: no baseline, or not measured yet. */
  targets: { fmax_100: boolean | null; lanes_per_cycle: boolean | null; fewer_lc: boolean | null };
  /** Logic cells per lane (null when not placed). */
  lc_per_lane: number | null;
  /** The manifest's steady state at Fmax: its throughput.elements_per_cycle × Fmax, in millions of its unit a second. */
  per_second_m: number | null;
  /** The manifest's throughput unit (elements, GEMM k-steps, attention codes, encoder MACs). */
  throughput_unit: string;
  /** The GEMM's density figures (issue 12), measured in the same run. */
  gemm?: GemmDensity;
}

/** Logic cells per MAC of the whole GEMM and of its array alone beside a plain array of the same shape; GMAC/s. */
export interface GemmDensity {
  rows: number;
  cols: number;
  macs: number;
  lc_per_mac: number | null;
  array_lc: number | null;
  array_lc_per_mac: number | null;
  array_fmax_mhz: number | null;
  plain_array_lc: number | null;
  plain_array_lc_per_mac: number | null;
  plain_array_fmax_text: string;
  /** The array alone is not bigger than the plain one. */
  array_not_bigger: boolean | null;
  /** Peak: one k-step of rows·cols MACs per cycle at the block's Fmax (a K run costs K + 1 cycles). */
  gmacs_at_fmax: number | null;
  requant_cycles: number;
  /** Shortest K at which the array never waits on the requantizer (K + 1 >= the drain's cycles per tile). */
  full_rate_k: number;
}

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;
}

/** Stands in for a design that --cached found no results for. */
const NOT_MEASURED: RowDetails = { block: '', device: 'hx8k', lc: null, lut: 0, ff: 0, carry: 0, bram: 0, dsp: 0, fmax_mhz: null, cells: {}, seconds: 0, cached: false };

function pathText(row: RowDetails): string {
  const p = row.routed?.critical_path;
  if (!row.routed?.fits) return 'not placed';
  return p ? `${p.from} → ${p.to}: ${p.logic_levels} LUT levels, ${p.logic_ns} ns logic + ${p.routing_ns} ns routing` : '–';
}

function iceRow(report: DesignReport): RowDetails {
  return report.rows.find((r) => r.lc !== null)!;
}

function machine(): Record<string, string> {
  const tool = (cmd: string, args: string[]) => {
    try {
      return execaSync(cmd, args).stdout.split('\n')[0]!.trim().slice(0, 120);
    } catch {
      return 'not installed';
    }
  };
  // The sources measured: the commit, and whether the blocks' generators, templates or the baselines differ from it.
  const dirty = tool('git', ['status', '--porcelain', '--', 'generators', 'templates', 'baselines', ':!generators/synth']) !== '';
  return {
    'sources measured': `commit ${tool('git', ['log', '-1', '--format=%h %s'])}${dirty ? ' (with uncommitted changes to the generators)' : ''}`,
    cores: String(availableParallelism()),
    cpu: cpus()[0]?.model ?? 'unknown',
    os: `${process.platform} ${release()}`,
    node: process.version,
    yosys: `@yowasp/yosys ${TOOL_VERSIONS.yosys}`,
    nextpnr: `@yowasp/nextpnr-ice40 ${TOOL_VERSIONS['nextpnr-ice40']}`,
    icarus: tool('iverilog', ['-V']),
  };
}

interface Prepared {
  config: SweepConfig;
  lanes: number;
  /** The manifest's steady state (throughput.elements_per_cycle, null for none) and its unit. */
  perCycle: number | null;
  unit: string;
  designs: SynthDesign[];
  generated: Omit<Side, 'lc' | 'fmax_mhz' | 'fmax_text' | 'critical_path' | 'synth_seconds'> & { cycles_per_element: number | null; gen_seconds: number; verify_seconds: number };
  baseline: (Omit<Side, 'lc' | 'fmax_mhz' | 'fmax_text' | 'critical_path' | 'synth_seconds'> & { note: string }) | null;
  /** GEMM only: the array alone and the plain array (synthesized after the block and its baseline), and its spec. */
  gemm?: { spec: GemmSpec; array: SynthDesign; plain: SynthDesign };
}

/** The hand-written baseline of a configuration: its block's, for the defaults only (the baselines are the default hardware). */
function baselineOf(config: SweepConfig): ReturnType<typeof baselineFor> | undefined {
  return config.section === undefined ? baselineFor(config.block) : undefined;
}

/**
 * Generation, verification and the baseline's simulation of one configuration (a block at one width, its defaults or
 * a --spec variant), timed one at a time. A variant has no baseline: the hand-written ones are the default hardware.
 */
async function prepare(config: SweepConfig): Promise<Prepared> {
  const { block: blockName, bits } = config;
  const block = blockByName(blockName)!;
  const work = join(WORK, config.id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  let t = performance.now();
  const generated = generateConfiguration({ bits: String(bits), blocks: blockName, spec: config.specPath ?? undefined });
  writeFolderAtomic(join(WORK, 'rtl-out'), config.id, generated.files);
  const genSeconds = seconds(t);
  const spec = block.resolve(bits, config.section, generated.prefix);

  t = performance.now();
  const verify = await block.verifyDefault(spec, { workDir: join(work, 'verify'), stallPercent: 20, seed: 1 });
  const verifySeconds = seconds(t);
  const clean = await block.verifyDefault(spec, { workDir: join(work, 'cycles'), stallPercent: 0, seed: 1 });
  const manifest = JSON.parse(generated.files.get(`${blockName}/rtl/manifest.json`)!) as BlockManifest;

  const baseline = baselineOf(config);
  const baselineRun = baseline ? await baseline.run(spec, join(work, 'baseline')) : undefined;
  process.stderr.write(`${config.id}: generated and verified (${verify.rtl_vs_model + clean.rtl_vs_model} mismatches), baseline simulated (${baselineRun?.mismatches ?? '-'} mismatches)\n`);
  // A variant's design is named after its configuration; the defaults keep the block's name, as `npm run synth` has it.
  const own = designFromGenerated(generated, blockName, config.section === undefined ? blockName : config.id);
  const gemmSpec = blockName === 'gemm' ? spec as GemmSpec : undefined;
  const throughput = throughputFromManifest(manifest as unknown as Record<string, unknown>);
  return {
    config,
    lanes: own.lanes ?? 1,
    perCycle: throughput.per_cycle,
    unit: throughput.unit,
    designs: [own, ...(baseline ? [baseline.design(spec)] : [])],
    ...(gemmSpec ? { gemm: { spec: gemmSpec, array: { ...own, name: 'gemm-array', top: gemmArrayTop(gemmSpec) }, plain: gemmArrayBaseline(gemmSpec) } } : {}),
    generated: {
      cycles_per_output: Math.round((clean.cycles / clean.elements) * 100) / 100,
      elements: verify.elements,
      mismatches: verify.rtl_vs_model + clean.rtl_vs_model,
      // The manifest's steady-state figure (elements, or GEMM k-steps, per cycle), as cycles per element.
      cycles_per_element: BATCH_BLOCKS.includes(blockName) ? null : Math.round((1 / manifest.throughput.elements_per_cycle) * 100) / 100,
      gen_seconds: genSeconds,
      verify_seconds: verifySeconds,
    },
    baseline: baselineRun ? {
      cycles_per_output: Math.round((baselineRun.cycles / baselineRun.elements) * 100) / 100,
      elements: baselineRun.elements,
      mismatches: baselineRun.mismatches,
      note: baselineRun.note,
    } : null,
  };
}

/** Synthesis and place and route of the block and its baseline (in parallel with the others), and the comparison. */
async function synthesize(p: Prepared, runner: ToolRunner, flow: ReturnType<typeof parseFlow>, onStep: ReturnType<typeof progressPrinter>): Promise<BenchRow> {
  // With --cached, a design whose tool runs are not in the cache yet is reported as not measured.
  // Every block's own design first, then the GEMM's array comparison, then the hand-written baselines, the slowest
  // (an hour or more of Yosys each) last: a run stopped early (or a --cached page) then lacks baselines, not the
  // blocks' own figures.
  const ice = { ...flow, families: ['ice40'] as const };
  const measure = (d: SynthDesign, priority: number) => synthesizeDesign(d, ice, runner, onStep, priority)
    .catch((err: unknown) => { if (err instanceof NotCachedError) return undefined; throw err; });
  const [reports, arrayReports] = await Promise.all([
    Promise.all(p.designs.map((d, i) => measure(d, i === 0 ? 2 : baselineOf(p.config)?.slowSynthesis ? -1 : 0))),
    p.gemm ? Promise.all([measure(p.gemm.array, 1), measure(p.gemm.plain, 1)]) : undefined,
  ]);
  const own = reports[0] ? iceRow(reports[0]) : NOT_MEASURED;
  const base = p.designs[1] ? (reports[1] ? iceRow(reports[1]) : NOT_MEASURED) : undefined;
  const side = (r: RowDetails) => ({
    lc: r.lc, fmax_mhz: r.fmax_mhz, fmax_text: r === NOT_MEASURED ? 'not measured yet' : fmaxCell(r),
    critical_path: r === NOT_MEASURED ? 'not measured yet' : pathText(r), synth_seconds: r === NOT_MEASURED ? null : r.seconds,
  });
  const generatedSide = { ...p.generated, ...side(own) };
  let gemm: GemmDensity | undefined;
  if (p.gemm) {
    const [arrayReport, plainReport] = arrayReports!;
    const array = arrayReport ? iceRow(arrayReport) : NOT_MEASURED;
    const plain = plainReport ? iceRow(plainReport) : NOT_MEASURED;
    const s = p.gemm.spec;
    const macs = s.rows * s.cols;
    const perMac = (lc: number | null) => (lc === null ? null : Math.round((lc / macs) * 10) / 10);
    gemm = {
      rows: s.rows, cols: s.cols, macs,
      lc_per_mac: perMac(own.lc),
      array_lc: array.lc, array_lc_per_mac: perMac(array.lc), array_fmax_mhz: array.fmax_mhz,
      plain_array_lc: plain.lc, plain_array_lc_per_mac: perMac(plain.lc), plain_array_fmax_text: plain === NOT_MEASURED ? 'not measured yet' : fmaxCell(plain),
      array_not_bigger: array.lc !== null && plain.lc !== null ? array.lc <= plain.lc : null,
      gmacs_at_fmax: own.fmax_mhz === null ? null : Math.round(macs * own.fmax_mhz) / 1000,
      requant_cycles: s.derived.requantCycles,
      full_rate_k: drainCycles(s) - 1,
    };
  }
  const baselineSide = base && p.baseline ? { ...p.baseline, ...side(base) } : null;
  return {
    block: p.config.block,
    bits: p.config.bits,
    id: p.config.id,
    spec: p.config.specPath,
    lanes: p.lanes,
    device: flow.device,
    generated: generatedSide,
    baseline: baselineSide,
    lc_ratio: ratio(own.lc, baselineSide?.lc ?? null),
    fmax_ratio: ratio(own.fmax_mhz, baselineSide?.fmax_mhz ?? null),
    cycles_ratio: ratio(generatedSide.cycles_per_output, baselineSide?.cycles_per_output ?? null),
    targets: {
      // null when not measured (--cached); a design that does not fit has no Fmax and misses.
      fmax_100: own === NOT_MEASURED ? null : (own.fmax_mhz ?? 0) >= 100,
      lanes_per_cycle: p.generated.cycles_per_element === null ? null : (p.perCycle ?? 0) >= p.lanes,
      fewer_lc: baselineSide && own.lc !== null && baselineSide.lc !== null ? own.lc < baselineSide.lc : null,
    },
    lc_per_lane: own.lc === null ? null : Math.round(own.lc / p.lanes),
    per_second_m: p.perCycle === null || own.fmax_mhz === null ? null : Math.round(p.perCycle * own.fmax_mhz * 10) / 10,
    throughput_unit: p.unit,
    ...(gemm ? { gemm } : {}),
  };
}

/** The block's name, with the --spec file of a variant. */
function blockCell(r: BenchRow): string {
  return r.spec === null ? r.block : `${r.block} (${r.spec})`;
}

function yesNo(v: boolean | null): string {
  return v === null ? 'not measured' : v ? 'yes' : '**no**';
}

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : String(v);
}

export function benchMarkdown(rows: BenchRow[], info: Record<string, string>, command: string): string {
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`${command}\` (scripts/bench.ts); every figure below was measured in that run. Do not edit by hand.`,
    '',
    '## Machine and tools',
    '',
    ...Object.entries(info).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Generated block vs hand-written baseline (iCE40, placed and routed)',
    '',
    'LC: iCE40 logic cells of the block alone (routed with the 5-pin serial harness, minus the harness routed alone). ',
    'Fmax: nextpnr\'s achieved clock after routing, register to register (harness included), seed 1, target 100 MHz. ',
    'Cycles/output: cycles from the first input beat to the last output beat divided by the output elements, simulated ',
    'without stalls on the block\'s default problem (the baseline runs the same problem); both are compared with the ',
    'golden model (mismatches column, must be 0). Ratios are generated / baseline. A block given with a --spec variant (its ',
    'file in brackets) has no baseline: the hand-written ones are the default hardware. Lanes: elements a beat (the spec\'s ',
    '`lanes`); LC/lane: LC gen / lanes; M/s at Fmax: the manifest\'s steady state (throughput.elements_per_cycle, in the ',
    'unit listed under the table) times Fmax, in millions a second.',
    '',
    '| block | bits | lanes | LC gen | LC/lane | LC base | LC ratio | Fmax gen (MHz) | Fmax base (MHz) | Fmax ratio | M/s at Fmax | cycles/element (manifest) | cycles/output gen | cycles/output base | cycles ratio | mismatches gen/base |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${blockCell(r)} | ${r.bits} | ${r.lanes} | ${num(r.generated.lc)} | ${num(r.lc_per_lane)} | ${num(r.baseline?.lc)} | ${num(r.lc_ratio)} | ${r.generated.fmax_text} | ${r.baseline?.fmax_text ?? '–'} | ${num(r.fmax_ratio)} | ${num(r.per_second_m)} | ${r.generated.cycles_per_element ?? 'batch¹'} | ${r.generated.cycles_per_output} | ${num(r.baseline?.cycles_per_output)} | ${num(r.cycles_ratio)} | ${r.generated.mismatches}/${num(r.baseline?.mismatches)} |`);
  }
  // A block's unit may name its configuration (the GEMM's MACs a beat), so it is listed per block and unit text.
  const units = new Map<string, { block: string; bits: number[]; unit: string }>();
  for (const r of rows) {
    const key = `${blockCell(r)}\n${r.throughput_unit}`;
    const u = units.get(key) ?? { block: blockCell(r), bits: [], unit: r.throughput_unit };
    if (!u.bits.includes(r.bits)) u.bits.push(r.bits);
    units.set(key, u);
  }
  lines.push('', 'Units of M/s at Fmax (each block\'s manifest, throughput.unit):', '',
    ...[...units.values()].map((u) => `- ${u.block} (${u.bits.join(', ')} bits): ${u.unit}`));
  const gemmRows = rows.filter((r) => r.gemm);
  if (gemmRows.length) {
    lines.push('', '## GEMM density (iCE40, placed and routed, same run)', '',
      'LC/MAC: logic cells of the whole block (array, drain, requantizer, output buffer) per MAC. Array alone: the generated ' +
        'gemm_array module (operand registers, MACs with their double-buffered result registers forming the drain chain) routed ' +
        'as its own top; plain array: baselines/gemm_array_baseline.v of the same shape and ports (`acc <= acc + (a - zp) * w`, ' +
        'no requantizer, no double buffer, read through an index). GMAC/s: rows·cols MACs per cycle at the block\'s Fmax (peak; ' +
        'a K run costs K + 1 cycles). Full rate: the shortest K at which the array never waits on the requantizer.',
      '', '| bits | array | MACs | LC | LC/MAC | array LC | array LC/MAC | plain array LC | plain LC/MAC | array ≤ plain | Fmax (MHz) | GMAC/s | requantizer cycles/code | full rate from K |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const r of gemmRows) {
      const g = r.gemm!;
      lines.push(`| ${r.bits} | ${g.rows}×${g.cols} | ${g.macs} | ${num(r.generated.lc)} | ${num(g.lc_per_mac)} | ${num(g.array_lc)} | ${num(g.array_lc_per_mac)} | ${num(g.plain_array_lc)} | ${num(g.plain_array_lc_per_mac)} | ${yesNo(g.array_not_bigger)} | ${r.generated.fmax_text} | ${num(g.gmacs_at_fmax)} | ${g.requant_cycles} | ${g.full_rate_k} |`);
    }
  }
  lines.push('', '## Targets (iCE40, each block at each width)', '',
    '| block | bits | lanes | Fmax ≥ 100 MHz | lanes elements per cycle | fewer LCs than the baseline |', '| --- | ---: | ---: | --- | --- | --- |');
  for (const r of rows) lines.push(`| ${blockCell(r)} | ${r.bits} | ${r.lanes} | ${yesNo(r.targets.fmax_100)} (${r.generated.fmax_text}) | ${r.targets.lanes_per_cycle === null ? 'not a target (batch¹)' : yesNo(r.targets.lanes_per_cycle)} | ${r.baseline ? yesNo(r.targets.fewer_lc) : 'no baseline'} |`);
  lines.push('', '## Critical paths after routing', '',
    'The clock\'s slowest register-to-register path as nextpnr reports it (cells named after the RTL registers); where Fmax misses ' +
      '100 MHz, this is why.', '', '| block | bits | generated | baseline |', '| --- | ---: | --- | --- |');
  for (const r of rows) lines.push(`| ${blockCell(r)} | ${r.bits} | ${r.generated.critical_path} | ${r.baseline?.critical_path ?? '–'} |`);
  lines.push('', '## Run times (seconds, this machine)', '',
    'gen: generating the block\'s files in memory and writing them; verify: the block\'s default stimulus with 20% random stalls in Icarus ' +
      '(what `npm run verify` runs for one block); both measured one at a time before any synthesis starts. synth: tool time of Yosys ' +
      'synth_ice40 and nextpnr-ice40 on the design in its harness (the small harness-alone run not counted), with two tool runs ' +
      'sharing the cores and other work on the machine (a cached result reports the time it took when it ran).',
    '', '| block | bits | gen | verify | synth (generated) | synth (baseline) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) lines.push(`| ${blockCell(r)} | ${r.bits} | ${r.generated.gen_seconds} | ${r.generated.verify_seconds} | ${num(r.generated.synth_seconds)} | ${num(r.baseline?.synth_seconds)} |`);
  lines.push('', '## Baselines', '');
  for (const r of rows) {
    lines.push(r.baseline
      ? `- ${r.block} at ${r.bits} bits: baselines/${r.block}_baseline.v; ${r.baseline.note}; ${r.baseline.elements} outputs compared with the golden model, ${r.baseline.mismatches} mismatches.`
      : `- ${blockCell(r)} at ${r.bits} bits: ${r.spec === null ? 'no hand-written baseline' : 'a --spec variant, not the baselines\' hardware'}; its base columns are empty and the LC comparison is not made.`);
  }
  const batch = [...new Set(rows.filter((r) => r.generated.cycles_per_element === null).map((r) => r.block))];
  if (batch.length) {
    lines.push('', `¹ batch: ${batch.join(', ')} ` +
      'runs every step on all N tokens before its first output (the attention head: a head at a time), and its throughput is ' +
      'set by its MACs (the manifest\'s own unit, listed above); cycles/output is the measured figure (its default run, no ' +
      'stalls), an element per cycle and lane is not its target.');
  }
  lines.push('', '## Published reference points', '',
    'SwiftTron (an open I-BERT-style RTL) taken through the same Yosys and nextpnr on iCE40, as published (not measured here):', '',
    '| block | LC | Fmax (MHz) |', '| --- | ---: | ---: |',
    ...REFERENCES.map((r) => `| ${r.block} | ${r.lc.toLocaleString('en-US')} | ${r.fmax_mhz} |`), '');
  return lines.join('\n');
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const args = parseCli(argv, {
    bits: { type: 'string' },
    blocks: { type: 'string' },
    device: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    doc: { type: 'string' },
    spec: { type: 'string', multiple: true },
    cached: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (args.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return 0;
  }
  const bitsList = parseBitsList(args.bits, '4,8');
  const blocks = parseBlocks(args.blocks);
  if (blocks.length === 0) throw new UsageError('--blocks: no block is implemented yet, nothing to benchmark');
  const flow = parseFlow({ device: args.device, seed: args.seed, jobs: args.jobs, families: 'ice40' });
  const doc = args.doc ?? 'docs/benchmarks.md';
  // The defaults of every block, then each --spec file's variants (a file without a section for a block adds nothing).
  const specs = (args.spec ?? []).map((path) => ({ path, blocks: readSpecFile(path)!.blocks }));
  const configs = expandConfigurations(blocks, bitsList, [{ path: '', blocks: {} }, ...specs]);
  for (const c of configs) blockByName(c.block)!.resolve(c.bits, c.section);
  const runner = new ToolRunner({ cacheDir: SYNTH_CACHE, parallel: flow.jobs, cacheOnly: args.cached ?? false });
  // Per configuration: the block and (defaults only) its baseline, each ports + two routed runs; the GEMM adds its
  // array alone and a plain array.
  const designs = configs.reduce((n, c) => n + 1 + (baselineOf(c) ? 1 : 0) + (c.block === 'gemm' ? 2 : 0), 0);
  const total = designs * 3;
  const onStep = progressPrinter(() => total);
  const started = performance.now();
  let rows: BenchRow[];
  let synthSeconds: number;
  try {
    const prepared: Prepared[] = [];
    for (const c of configs) prepared.push(await prepare(c));
    const synthStarted = performance.now();
    rows = await Promise.all(prepared.map((p) => synthesize(p, runner, flow, onStep)));
    synthSeconds = seconds(synthStarted);
  } catch (err) {
    runner.cancel();
    if (err instanceof ToolError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const info = {
    ...machine(),
    'bench wall time': args.cached
      ? 'not measured: --cached regenerated this page from the synthesis cache (the synth column gives each tool run\'s time when it ran)'
      : `${seconds(started)} s (synthesis and place and route of every design: ${synthSeconds} s with ${flow.jobs} tool runs at once)`,
  };
  const command = `npm run bench -- ${argv.join(' ')}`.trim();
  mkdirSync(dirname(resolve(doc)), { recursive: true });
  writeFileSync(doc, benchMarkdown(rows, info, command));
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, 'bench.json'), JSON.stringify({ machine: info, rows }, null, 2) + '\n');
  process.stdout.write(readFileSync(doc, 'utf8'));
  process.stderr.write(`wrote ${doc} and ${join(WORK, 'bench.json')}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify({ machine: info, rows })}\n`);
  const failed = rows.filter((r) => r.generated.mismatches !== 0 || (r.baseline && r.baseline.mismatches !== 0));
  return failed.length ? 1 : 0;
}

if (process.argv[1]?.endsWith('bench.ts')) runMain(main);
