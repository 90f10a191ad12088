/**
 * A configuration's synthesis report: report.json (plain rows in the documented schema, plus the details each row
 * came from), the Markdown table, and the SVG plots of logic cells and Fmax against bit width.
 */
import { GENERATOR_NAME, GENERATOR_VERSION } from '../common/verilog.ts';
import type { DesignReport, FlowOptions } from './flow.ts';
import { lineChartSvg } from './plot.ts';
import type { ResourceRow, RowDetails } from './report.ts';
import { TOOL_VERSIONS } from './tools.ts';

export interface SynthReport {
  configuration: string;
  bits: number;
  generator: string;
  tools: Record<string, string>;
  flow: { device: string; families: string[]; seed: number; target_mhz: number; harness: string };
  /** Per block and device, the block's own figures. */
  rows: ResourceRow[];
  designs: DesignReport[];
}

const HARNESS_NOTE = 'serial shift chains on every port except clk/rst (5 pins); iCE40 lc, lut, ff, carry, bram and dsp = the design with its harness minus the harness alone (nextpnr for lc, Yosys statistics for the rest); fmax_mhz of the routed design with its harness; ECP5 and Xilinx figures from Yosys on the block alone';

export function buildReport(configuration: string, bits: number, flow: FlowOptions, designs: DesignReport[]): SynthReport {
  return {
    configuration,
    bits,
    generator: `${GENERATOR_NAME} ${GENERATOR_VERSION}`,
    tools: { ...TOOL_VERSIONS },
    flow: { device: flow.device, families: [...flow.families], seed: flow.seed, target_mhz: flow.targetMhz, harness: HARNESS_NOTE },
    rows: designs.flatMap((d) => d.rows.map(plainRow)),
    designs,
  };
}

/** Exactly the documented fields, in the documented order. */
export function plainRow(r: ResourceRow): ResourceRow {
  return { block: r.block, device: r.device, lc: r.lc, lut: r.lut, ff: r.ff, carry: r.carry, bram: r.bram, dsp: r.dsp, fmax_mhz: r.fmax_mhz, ...(r.lanes === undefined ? {} : { lanes: r.lanes }), ...(r.macs === undefined ? {} : { macs: r.macs }) };
}

function cell(v: number | null): string {
  return v === null ? '–' : String(v);
}

/** Fmax, or why there is none: a design larger than the device is not placed. */
export function fmaxCell(r: RowDetails): string {
  if (r.routed && !r.routed.fits) return `does not fit (${r.routed.lc_total}/${r.routed.available_lc} LCs with harness)`;
  return cell(r.fmax_mhz);
}

export function reportMarkdown(report: SynthReport): string {
  const lines = [
    `# Synthesis report: ${report.configuration}`,
    '',
    `${report.generator}; Yosys ${report.tools.yosys} and nextpnr-ice40 ${report.tools['nextpnr-ice40']} (YoWASP). ` +
      `iCE40 ${report.flow.device}: placed and routed, seed ${report.flow.seed}, target ${report.flow.target_mhz} MHz.` +
      (report.flow.families.some((f) => f !== 'ice40') ? ' ECP5 and Xilinx 7-series: synthesis only (estimates).' : ''),
    '',
    '| block | device | LC | LUT | FF | carry | BRAM | DSP | Fmax (MHz) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.designs.flatMap((d) => d.rows).map((r) => `| ${r.block} | ${r.device} | ${cell(r.lc)} | ${r.lut} | ${r.ff} | ${r.carry} | ${r.bram} | ${r.dsp} | ${fmaxCell(r)} |`),
    '',
    '## Pin harness',
    '',
    `Every design is routed inside a harness: ${HARNESS_NOTE}.`,
    '',
    '| block | ports in/out (bits) | LC with harness | harness alone LC | harness alone Fmax (MHz) |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const d of report.designs) {
    const routed = d.rows.find((r) => r.routed)?.routed;
    if (!routed) continue;
    const bits = (dir: string) => d.ports.filter((p) => p.direction === dir && p.name !== 'clk' && p.name !== 'rst').reduce((s, p) => s + p.width, 0);
    lines.push(`| ${d.name} | ${bits('input')}/${bits('output')} | ${routed.lc_total} | ${routed.harness_lc} | ${cell(routed.harness_fmax_mhz)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/** resources.svg and fmax.svg across the bit widths of `reports` (iCE40 rows). */
export function reportPlots(reports: SynthReport[]): Record<string, string> {
  const sorted = [...reports].sort((a, b) => a.bits - b.bits);
  const device = sorted[0]?.flow.device ?? 'hx8k';
  const names = [...new Set(sorted.flatMap((r) => r.rows.filter((x) => x.device === device).map((x) => x.block)))];
  const series = (value: (r: ResourceRow) => number | null) => names.map((name) => ({
    name,
    points: sorted.flatMap((rep) => rep.rows
      .filter((r) => r.block === name && r.device === device && value(r) !== null)
      .map((r) => ({ x: rep.bits, y: value(r)! }))),
  }));
  return {
    'resources.svg': lineChartSvg({ title: `Logic cells on iCE40 ${device}`, xLabel: 'bits', yLabel: 'logic cells', series: series((r) => r.lc) }),
    'fmax.svg': lineChartSvg({ title: `Fmax on iCE40 ${device} (after routing)`, xLabel: 'bits', yLabel: 'MHz', series: series((r) => r.fmax_mhz), target: { y: 100, label: '100 MHz target' } }),
  };
}
