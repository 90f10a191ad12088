/**
 * The synthesis flow of one design (a generated block or a hand-written baseline): its ports, its own resources on
 * each family (Yosys, block alone), and on iCE40 place and route through the pin harness, with the harness alone
 * routed too so that its cost can be subtracted. Jobs go through a ToolRunner (parallel, cached).
 */
import { FAMILIES, cellsFromStat, parseCriticalPath, parseNextpnrOverflow, parseNextpnrReport, resourcesFromCells, type DeviceName, type Family, type Ice40Device, type RowDetails } from './report.ts';
import { HARNESS_TOP, emitHarness, emitStub, portsFromYosysJson, type PortInfo } from './harness.ts';
import type { ToolJob, ToolResult, ToolRunner } from './tools.ts';

/** A design to synthesize: its top module and its Verilog files (name → text). */
export interface SynthDesign {
  /** Name in reports, e.g. `softmax` or `softmax-baseline`. */
  name: string;
  top: string;
  files: Record<string, string>;
  /** Parameter overrides of the top module (Yosys `chparam`); the generated blocks need none. */
  params?: Record<string, number>;
  /** The block's `lanes` (elements a beat), when it has that parameter: copied into its report rows. */
  lanes?: number;
  /** Multiply-accumulates per cycle (an array block's manifest `derived.macs`), copied into its rows. */
  macs?: number;
}

export interface FlowOptions {
  /** iCE40 part placed and routed. */
  device: Ice40Device;
  /** Families to report; iCE40 is placed and routed, the others synthesized only. */
  families: readonly Family[];
  /** nextpnr placer seed. */
  seed: number;
  /** Target frequency given to nextpnr's timing-driven placement (MHz); Fmax is what it achieves, whatever the target. */
  targetMhz: number;
}

export const DEFAULT_FLOW: FlowOptions = { device: 'hx8k', families: FAMILIES, seed: 1, targetMhz: 100 };

/** nextpnr arguments that select the part and its package. */
export const DEVICE_ARGS: Readonly<Record<Ice40Device, string[]>> = {
  hx8k: ['--hx8k', '--package', 'ct256'],
  up5k: ['--up5k', '--package', 'sg48'],
};

export interface DesignReport {
  name: string;
  top: string;
  ports: PortInfo[];
  rows: RowDetails[];
}

export type StepListener = (label: string, result: ToolResult) => void;

const FAMILY_DEVICE: Readonly<Record<Family, (o: FlowOptions) => DeviceName>> = {
  ice40: (o) => o.device,
  ecp5: () => 'ecp5',
  xilinx: () => 'xc7',
};

export function synthCommand(family: Family, top: string, device: Ice40Device): string {
  switch (family) {
    case 'ice40':
      return `synth_ice40 -top ${top}${device === 'up5k' ? ' -dsp' : ''}`;
    case 'ecp5':
      return `synth_ecp5 -top ${top}`;
    case 'xilinx':
      return `synth_xilinx -top ${top} -family xc7 -noiopad`;
  }
}

function readCommand(files: Record<string, string>, design: SynthDesign): string {
  const read = `read_verilog ${Object.keys(files).filter((f) => f.endsWith('.v')).sort().join(' ')}`;
  const params = Object.entries(design.params ?? {}).map(([name, value]) => `chparam -set ${name} ${verilogInteger(value)} ${design.top}`);
  return [read, ...params].join('; ');
}

/** A parameter value chparam accepts: negative integers as 32-bit signed two's complement (it cannot parse "-2"). */
export function verilogInteger(value: number): string {
  if (!Number.isSafeInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`parameter value ${value} is not a 32-bit integer`);
  return value < 0 ? `32'sh${(value >>> 0).toString(16)}` : String(value);
}

/** A Yosys job over a design: its sources read (and its parameters set), then `script`; `keep` names the outputs. */
export function yosysJob(label: string, design: SynthDesign, script: string[], keep: string[]): ToolJob {
  return { label, files: design.files, keep, steps: [{ tool: 'yosys', args: ['-q', '-p', [readCommand(design.files, design), ...script].join('; ')] }] };
}

function seconds(result: ToolResult): number {
  return Math.round(result.logs.reduce((s, l) => s + l.seconds, 0) * 10) / 10;
}

/** Synthesizes, and on iCE40 places and routes, one design (its tool runs at `priority`, see ToolRunner.run). */
export async function synthesizeDesign(design: SynthDesign, options: FlowOptions, runner: ToolRunner, onStep: StepListener = () => {}, priority = 0): Promise<DesignReport> {
  const run = async (job: ToolJob) => {
    const result = await runner.run(job, priority);
    onStep(job.label, result);
    return result;
  };
  const portsRun = await run(yosysJob(`${design.name} ports`, design,
    [`hierarchy -check -top ${design.top}`, 'proc', `select -module ${design.top}`, 'delete c:* p:*', 'select -clear', `write_json -noscopeinfo -selected ports.json`], ['ports.json']));
  const ports = portsFromYosysJson(portsRun.outputs['ports.json']!, design.top);

  const rows = await Promise.all(options.families.map(async (family): Promise<RowDetails> => {
    const device = FAMILY_DEVICE[family](options);
    if (family !== 'ice40') {
      const result = await run(yosysJob(`${design.name} ${device} synthesis`, design,
        [synthCommand(family, design.top, options.device), 'tee -q -o stat.json stat -json'], ['stat.json']));
      const cells = cellsFromStat(result.outputs['stat.json']!);
      return { block: design.name, device, lc: null, ...resourcesFromCells(family, cells), fmax_mhz: null, cells, seconds: seconds(result), cached: result.cached };
    }
    // iCE40: the design in its harness, and the harness alone; the block's own figures are the difference, so the
    // (slow, for large designs) synthesis runs once per design.
    const harness = emitHarness(design.top, ports);
    const [routed, harnessAlone] = await Promise.all([
      run(routeJob(`${design.name} ${device} synthesis, place and route`, { ...design, files: { ...design.files, [`${HARNESS_TOP}.v`]: harness } }, options)),
      run(routeJob(`${design.name} ${device} harness alone`, { ...design, params: {}, files: { [`${design.top}.v`]: emitStub(design.top, ports), [`${HARNESS_TOP}.v`]: harness } }, options)),
    ]);
    if (harnessAlone.failed) throw new Error(`${design.name}: the harness alone does not fit ${device}`);
    const cells = subtractCells(cellsFromStat(routed.outputs['stat.json']!), cellsFromStat(harnessAlone.outputs['stat.json']!));
    // A design larger than the device is a result (it does not fit), with the LC count nextpnr packed before placing.
    const overflow = routed.failed ? parseNextpnrOverflow(routed.logs.at(-1)!.text) : undefined;
    const total = overflow ?? parseNextpnrReport(routed.outputs['report.json']!);
    const bare = parseNextpnrReport(harnessAlone.outputs['report.json']!);
    return {
      block: design.name,
      device,
      lc: total.lc - bare.lc,
      ...resourcesFromCells('ice40', cells),
      fmax_mhz: total.fmax_mhz,
      cells,
      routed: { lc_total: total.lc, harness_lc: bare.lc, harness_fmax_mhz: bare.fmax_mhz, io: total.io, fits: !overflow, available_lc: overflow?.available_lc ?? null,
        critical_path: overflow ? null : parseCriticalPath(routed.outputs['report.json']!) },
      seconds: seconds(routed),
      cached: routed.cached && harnessAlone.cached,
    };
  }));
  return { name: design.name, top: design.top, ports, rows: rows.map((r) => ({ ...r, ...(design.lanes === undefined ? {} : { lanes: design.lanes }), ...(design.macs === undefined ? {} : { macs: design.macs }) })) };
}

/** Cell counts of a design minus those of another (the harness alone), per type, never below zero. */
export function subtractCells(total: Record<string, number>, minus: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(total).map(([type, n]) => [type, Math.max(0, n - (minus[type] ?? 0))] as const).filter(([, n]) => n > 0));
}

/**
 * nextpnr-ice40's errors for a design the device cannot hold: more logic cells than it has (the analytic placer's
 * region cannot expand, or a cell finds no site), or a count just inside that still has no legal placement. Such a
 * run is a result ("does not fit", with the utilisation it printed), not an error.
 */
export const NEXTPNR_DOES_NOT_FIT = /ERROR: Failed to expand region|ERROR: Unable to place cell|ERROR: Unable to find legal placement for all cells/;

/** Yosys synth_ice40 of the harnessed design (with its cell statistics), then nextpnr-ice40 with its JSON report. */
function routeJob(label: string, design: SynthDesign, options: FlowOptions): ToolJob {
  return {
    label,
    files: design.files,
    keep: ['stat.json', 'report.json'],
    acceptFailure: NEXTPNR_DOES_NOT_FIT,
    steps: [
      { tool: 'yosys', args: ['-q', '-p', [readCommand(design.files, design), synthCommand('ice40', HARNESS_TOP, options.device), 'tee -q -o stat.json stat -json', 'write_json netlist.json'].join('; ')] },
      {
        tool: 'nextpnr-ice40',
        args: [...DEVICE_ARGS[options.device], '--json', 'netlist.json', '--report', 'report.json', '--freq', String(options.targetMhz),
          '--seed', String(options.seed), '--pcf-allow-unconstrained', '--timing-allow-fail'],
      },
    ],
  };
}
