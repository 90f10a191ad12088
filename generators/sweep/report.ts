/**
 * A sweep's report: one row per configuration (place-and-route figures, throughput from the block's manifest,
 * accuracy figures named with their metric), the merge of shard reports, report.md, and the SVG plots (logic cells
 * against error per block with the Pareto front; Fmax against bits).
 */
import { UsageError } from '../common/errors.ts';
import type { AccuracyReport } from '../accuracy/index.ts';
import { lineChartSvg } from '../synth/plot.ts';
import { paretoFront, scatterChartSvg } from './scatter.ts';
import type { Shard } from './plan.ts';

/** Throughput as the block's rtl/manifest.json states it, and which field it was read from. */
export interface SweepThroughput {
  /** Per clock cycle, in `unit`; null when the manifest states none. */
  per_cycle: number | null;
  unit: string;
  /** The manifest field read (`throughput.elements_per_cycle`, or 1 / `cycles_per_element` of an older manifest). */
  read: string;
  condition?: string;
}

export interface SweepRow {
  id: string;
  block: string;
  bits: number;
  /** Hash of the block's --spec section, or null for its defaults. */
  spec: string | null;
  device: string;
  /** iCE40 figures of the block alone (pin harness subtracted), from the synth flow (scripts/synth.ts). */
  lc: number | null;
  lut: number;
  ff: number;
  carry: number;
  bram: number;
  dsp: number;
  fmax_mhz: number | null;
  /** False when the design does not fit the device (lc is then nextpnr's packed count, fmax_mhz null). */
  fits: boolean;
  throughput: SweepThroughput;
  accuracy: AccuracyReport;
}

/** What every shard of one sweep shares. */
export interface SweepIdentity {
  /** Hash of the configuration list and the options. */
  id: string;
  /** Every configuration of the sweep, in order (a shard runs some of them). */
  configurations: string[];
  options: Record<string, unknown>;
}

export interface SweepReport {
  sweep: SweepIdentity;
  /** The shard this report is, or null for a whole sweep or a merge. */
  shard: Shard | null;
  /** Shard reports merged into this one (0 when it was run, not merged). */
  merged_from: number;
  generator: string;
  tools: Record<string, string>;
  rows: SweepRow[];
}

/** Throughput from a manifest of the BlockManifest schema (throughput.elements_per_cycle) or an older one. */
export function throughputFromManifest(manifest: Record<string, unknown>): SweepThroughput {
  const t = manifest.throughput as { elements_per_cycle?: unknown; unit?: unknown; condition?: unknown } | undefined;
  if (t && typeof t.elements_per_cycle === 'number') {
    return {
      per_cycle: t.elements_per_cycle,
      unit: typeof t.unit === 'string' ? t.unit : 'elements per cycle',
      read: 'rtl/manifest.json throughput.elements_per_cycle',
      ...(typeof t.condition === 'string' ? { condition: t.condition } : {}),
    };
  }
  if (typeof manifest.cycles_per_element === 'number' && manifest.cycles_per_element > 0) {
    return { per_cycle: 1 / manifest.cycles_per_element, unit: 'elements per cycle', read: 'rtl/manifest.json 1 / cycles_per_element (manifest without a throughput field)' };
  }
  return { per_cycle: null, unit: '', read: 'rtl/manifest.json states no throughput' };
}

/** The row's plotted accuracy figure, and which way is better (an error: lower; an SQNR: higher). */
export function primaryError(row: SweepRow): { name: string; value: number; better: 'lower' | 'higher' } {
  const m = row.accuracy.metrics.find((x) => x.name === row.accuracy.primary)!;
  return { name: m.name, value: m.value, better: m.better ?? 'lower' };
}

/** Rows in the sweep's order. */
export function sortRows(rows: readonly SweepRow[], order: readonly string[]): SweepRow[] {
  const at = new Map(order.map((id, i) => [id, i]));
  return [...rows].sort((a, b) => (at.get(a.id) ?? Infinity) - (at.get(b.id) ?? Infinity));
}

/**
 * Combines shard reports (each with its folder, for messages). Refuses, as a UsageError, reports of different sweeps
 * and any configuration reported twice.
 */
export function mergeReports(parts: ReadonlyArray<{ dir: string; report: SweepReport }>): SweepReport {
  if (parts.length === 0) throw new UsageError('--merge: needs at least one shard folder');
  const first = parts[0]!;
  const seen = new Map<string, string>();
  for (const { dir, report } of parts) {
    if (report.sweep.id !== first.report.sweep.id) {
      throw new UsageError(`--merge: ${dir} is from a different sweep (sweep id ${report.sweep.id}, ${first.dir} has ${first.report.sweep.id})`);
    }
    for (const row of report.rows) {
      const other = seen.get(row.id);
      if (other !== undefined) throw new UsageError(`--merge: configuration ${row.id} is in both ${other} and ${dir}`);
      seen.set(row.id, dir);
    }
  }
  return {
    sweep: first.report.sweep,
    shard: null,
    merged_from: parts.length,
    generator: first.report.generator,
    tools: first.report.tools,
    rows: sortRows(parts.flatMap((p) => p.report.rows), first.report.sweep.configurations),
  };
}

/** Configurations of the sweep that the report has no row for. */
export function missingConfigurations(report: SweepReport): string[] {
  const have = new Set(report.rows.map((r) => r.id));
  return report.sweep.configurations.filter((id) => !have.has(id));
}

/** The sweep's timing target (synth flow option target_mhz), if it states one. */
function targetMhz(report: SweepReport): number | null {
  const t = report.sweep.options.target_mhz;
  return typeof t === 'number' ? t : null;
}

/** A design that fits but was routed below the timing target: shown as such in the table and the plot, not hidden. */
function belowTarget(report: SweepReport, r: SweepRow): boolean {
  const t = targetMhz(report);
  return t !== null && r.fits && r.fmax_mhz !== null && r.fmax_mhz < t;
}

function num(v: number | null, digits = 4): string {
  if (v === null) return '–';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(digits)));
}

export function sweepMarkdown(report: SweepReport): string {
  const o = report.sweep.options;
  const missing = missingConfigurations(report);
  const lines = [
    `# Sweep report ${report.sweep.id}`,
    '',
    `${report.generator}; Yosys ${report.tools.yosys} and nextpnr-ice40 ${report.tools['nextpnr-ice40']} (YoWASP); iCE40 ${String(o.device)}, placer seed ${String(o.seed)}. ` +
      (report.shard ? `Shard ${report.shard.index} of ${report.shard.count}: ` : report.merged_from ? `Merged from ${report.merged_from} shard reports: ` : '') +
      `${report.rows.length} of ${report.sweep.configurations.length} configurations.` +
      (missing.length ? ` Missing: ${missing.join(', ')}.` : ''),
    '',
    'LC, LUT, FF, BRAM, DSP: the block alone (pin harness subtracted); Fmax after routing. Accuracy against a float64 reference on seeded inputs (the encoder: on a public vector case its configuration runs, where there is one), each figure named by its metric (meanings below; an error is better lower, an SQNR higher).',
    '',
    '| configuration | LC | LUT | FF | BRAM | DSP | Fmax (MHz) | throughput per cycle | accuracy |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of report.rows) {
    const fmax = r.fits ? `${num(r.fmax_mhz)}${belowTarget(report, r) ? ` (below the ${targetMhz(report)} MHz target)` : ''}` : 'does not fit';
    const tp = r.throughput.per_cycle === null ? '–' : `${num(r.throughput.per_cycle)} ${r.throughput.unit}`;
    const acc = r.accuracy.metrics.map((m) => `${m.name} ${num(m.value)}`).join(', ');
    lines.push(`| ${r.id} | ${num(r.lc)} | ${r.lut} | ${r.ff} | ${r.bram} | ${r.dsp} | ${fmax} | ${tp} | ${acc} |`);
  }
  lines.push('', '## Pareto front (fewest logic cells for the accuracy)', '');
  for (const [key, rows] of byBlock(report.rows)) {
    const front = frontIds(rows);
    const p = primaryError(rows[0]!);
    const noFit = rows.filter((r) => !r.fits).map((r) => r.id);
    lines.push(`- ${key} (${p.name}, ${p.better} is better): ${rows.filter((r) => front.has(r.id)).map((r) => r.id).join(', ') || 'none fits'}` +
      (noFit.length ? `; not on the front as they do not fit: ${noFit.join(', ')}` : ''));
  }
  lines.push('', '## Metrics', '');
  const meanings = new Map<string, string>();
  for (const r of report.rows) for (const m of r.accuracy.metrics) meanings.set(`${r.block} ${m.name}`, m.meaning);
  for (const [name, meaning] of meanings) lines.push(`- ${name}: ${meaning}`);
  const inputs = new Map(report.rows.map((r) => [`${r.id}`, r.accuracy.inputs]));
  lines.push('', '## Inputs the accuracy was measured on', '', ...[...inputs].map(([id, text]) => `- ${id}: ${text}`), '');
  return lines.join('\n');
}

/**
 * Rows by block, and within a block by plotted metric (an encoder configuration that runs a public case is measured
 * against its float_out, another against the float block): `gemm`, or `encoder sqnr_db` beside `encoder
 * sqnr_float_block_db` when a block's rows have more than one.
 */
export function byBlock(rows: readonly SweepRow[]): Map<string, SweepRow[]> {
  const metrics = new Map<string, Set<string>>();
  for (const r of rows) metrics.set(r.block, (metrics.get(r.block) ?? new Set()).add(r.accuracy.primary));
  const out = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const key = metrics.get(r.block)!.size > 1 ? `${r.block} ${r.accuracy.primary}` : r.block;
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

/** The rows on the Pareto front: fewest logic cells for the accuracy, among the designs that fit. */
export function frontIds(rows: readonly SweepRow[]): Set<string> {
  const points = rows.filter((r) => r.lc !== null && r.fits).map((r) => {
    const p = primaryError(r);
    return { id: r.id, x: p.better === 'higher' ? -p.value : p.value, y: r.lc! };
  });
  return new Set(paretoFront(points).map((p) => p.id));
}

/** pareto-<block>.svg (logic cells against the block's primary error, front marked) and fmax.svg (Fmax against bits). */
export function sweepPlots(report: SweepReport): Record<string, string> {
  const plots: Record<string, string> = {};
  const device = String(report.sweep.options.device);
  for (const [key, rows] of byBlock(report.rows)) {
    const front = frontIds(rows);
    const { name: metric, better } = primaryError(rows[0]!);
    plots[`pareto-${key.replace(' ', '-')}.svg`] = scatterChartSvg({
      title: `${rows[0]!.block}: logic cells against ${better === 'higher' ? 'accuracy' : 'error'} (iCE40 ${device})`,
      xLabel: `${metric} against float64 (${better} is better)`,
      yLabel: 'logic cells',
      xScale: better === 'higher' ? 'linear' : 'auto',
      // Every design with a cell count, those that do not fit too (crosses at nextpnr's packed count)
      points: rows.filter((r) => r.lc !== null).map((r) => ({
        x: primaryError(r).value,
        y: r.lc!,
        label: `${r.bits}b${r.spec ? ` ${r.spec.slice(0, 4)}` : ''}${r.fits ? '' : ' (does not fit)'}${belowTarget(report, r) ? ` ${Math.floor(r.fmax_mhz!)} MHz` : ''}`,
        title: `${r.id}: ${r.lc} LC${r.fits ? `, ${num(r.fmax_mhz)} MHz` : ' (does not fit)'}, ${metric} ${num(primaryError(r).value)}`,
        front: front.has(r.id),
        fits: r.fits,
      })),
    });
  }
  const series = new Map<string, Array<{ x: number; y: number }>>();
  for (const r of report.rows) {
    if (r.fmax_mhz === null) continue;
    const name = r.spec ? `${r.block} ${r.spec}` : r.block;
    series.set(name, [...(series.get(name) ?? []), { x: r.bits, y: r.fmax_mhz }]);
  }
  plots['fmax.svg'] = lineChartSvg({
    title: `Fmax on iCE40 ${device} (after routing)`,
    xLabel: 'bits',
    yLabel: 'MHz',
    series: [...series].map(([name, points]) => ({ name, points })),
    target: { y: 100, label: '100 MHz target' },
  });
  return plots;
}
