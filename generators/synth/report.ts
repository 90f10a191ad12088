/**
 * Report types and the parsers of the tools' own reports: Yosys `stat -json` (cells by type) and nextpnr's
 * `--report` JSON (utilisation and the achieved frequency of each clock).
 */

/** iCE40 devices placed and routed (`--device`), and the families synthesized only, for estimates. */
export const ICE40_DEVICES = ['hx8k', 'up5k'] as const;
export type Ice40Device = (typeof ICE40_DEVICES)[number];
export const FAMILIES = ['ice40', 'ecp5', 'xilinx'] as const;
export type Family = (typeof FAMILIES)[number];
/** A row's device: an iCE40 part (placed and routed), `ecp5` or `xc7` (synthesis only). */
export type DeviceName = Ice40Device | 'ecp5' | 'xc7';

/**
 * One block on one device, the block's own figures (harness excluded). `lc` and `fmax_mhz` exist only where the
 * design was placed and routed (iCE40); `bram` counts the family's block RAM primitives (iCE40 4-kbit, ECP5 18-kbit
 * DP16KD, Xilinx 7-series in 36-kbit equivalents), `dsp` its multiplier primitives (UP5K SB_MAC16, ECP5 MULT18X18D,
 * Xilinx DSP48E1).
 */
export interface ResourceRow {
  block: string;
  device: DeviceName;
  /** iCE40 logic cells (LUT4 + DFF + carry) from nextpnr: with the harness, minus the harness alone. */
  lc: number | null;
  lut: number;
  ff: number;
  carry: number;
  bram: number;
  dsp: number;
  /** Achieved Fmax of `clk` from nextpnr's timing analysis after routing (register to register, harness included). */
  fmax_mhz: number | null;
  /** Elements a beat and a cycle, for a block that has the `lanes` parameter (its manifest's spec.lanes). */
  lanes?: number;
  /** Multiply-accumulates per cycle of an array block (the GEMM: rows·cols), from its manifest; absent otherwise. */
  macs?: number;
}

/** Extra facts kept beside a row in report.json. */
export interface RowDetails extends ResourceRow {
  /** Every cell type Yosys mapped to, with its count (iCE40: with harness minus harness alone; others: block alone). */
  cells: Record<string, number>;
  /** iCE40 only: the routed design with its harness, and the harness alone. */
  routed?: {
    lc_total: number; harness_lc: number; harness_fmax_mhz: number | null; io: number; fits: boolean; available_lc: number | null;
    critical_path: CriticalPath | null;
  };
  /** Seconds each tool step took when it ran (also when this result came from the cache). */
  seconds: number;
  cached: boolean;
}

/** Cell counts of the whole (flattened) design from `stat -json`. */
export function cellsFromStat(statJson: string): Record<string, number> {
  const stat = JSON.parse(statJson) as { design?: { num_cells_by_type?: Record<string, number> }; modules?: Record<string, { num_cells_by_type?: Record<string, number> }> };
  const byType = stat.design?.num_cells_by_type ?? Object.values(stat.modules ?? {})[0]?.num_cells_by_type;
  if (!byType) throw new Error('yosys stat -json has no cell counts');
  return Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b)));
}

function sum(cells: Record<string, number>, match: (type: string) => boolean, weight: (type: string) => number = () => 1): number {
  return Object.entries(cells).reduce((acc, [type, n]) => (match(type) ? acc + n * weight(type) : acc), 0);
}

/** LUT/FF/carry/BRAM/DSP of a family from Yosys cell counts; unknown cell types stay visible in `cells`. */
export function resourcesFromCells(family: Family, cells: Record<string, number>): Pick<ResourceRow, 'lut' | 'ff' | 'carry' | 'bram' | 'dsp'> {
  switch (family) {
    case 'ice40':
      return {
        lut: sum(cells, (t) => t === 'SB_LUT4'),
        ff: sum(cells, (t) => t.startsWith('SB_DFF')),
        carry: sum(cells, (t) => t === 'SB_CARRY'),
        bram: sum(cells, (t) => t.startsWith('SB_RAM40_4K')),
        dsp: sum(cells, (t) => t === 'SB_MAC16'),
      };
    case 'ecp5':
      return {
        lut: sum(cells, (t) => t === 'LUT4'),
        ff: sum(cells, (t) => t === 'TRELLIS_FF'),
        carry: sum(cells, (t) => t === 'CCU2C'),
        bram: sum(cells, (t) => t === 'DP16KD' || t === 'PDPW16KD'),
        dsp: sum(cells, (t) => t === 'MULT18X18D'),
      };
    case 'xilinx':
      return {
        lut: sum(cells, (t) => /^LUT[1-6]$/.test(t)),
        ff: sum(cells, (t) => /^FD[RSCP]E$/.test(t)),
        carry: sum(cells, (t) => t === 'CARRY4'),
        bram: sum(cells, (t) => t === 'RAMB36E1' || t === 'RAMB18E1', (t) => (t === 'RAMB18E1' ? 0.5 : 1)),
        dsp: sum(cells, (t) => t === 'DSP48E1'),
      };
  }
}

export interface NextpnrSummary {
  lc: number;
  io: number;
  bram: number;
  dsp: number;
  fmax_mhz: number | null;
}

/**
 * Utilisation from nextpnr's log when placement failed because the design does not fit: the "Device utilisation"
 * lines (`ICESTORM_LC: 8374/ 7680 109%`) printed before placement; no Fmax.
 */
export function parseNextpnrOverflow(log: string): NextpnrSummary & { available_lc: number } {
  const used = (name: string) => {
    const m = new RegExp(`${name}:\\s*(\\d+)/\\s*(\\d+)`).exec(log);
    return m ? { used: Number(m[1]), available: Number(m[2]) } : { used: 0, available: 0 };
  };
  const lc = used('ICESTORM_LC');
  if (lc.available === 0) throw new Error('nextpnr log has no ICESTORM_LC utilisation line');
  return { lc: lc.used, io: used('SB_IO').used, bram: used('ICESTORM_RAM').used, dsp: used('ICESTORM_DSP').used, fmax_mhz: null, available_lc: lc.available };
}

/** The clock's critical path after routing, summarized: where it starts and ends, and how its delay splits. */
export interface CriticalPath {
  from: string;
  to: string;
  /** LUT levels (logic steps) on the path. */
  logic_levels: number;
  logic_ns: number;
  routing_ns: number;
}

interface PathStep { type: string; delay: number; from: { cell: string }; to: { cell: string }; net?: string }

/** The register-to-register critical path of the clock from nextpnr's `--report` JSON, or null when there is none. */
export function parseCriticalPath(reportJson: string): CriticalPath | null {
  const report = JSON.parse(reportJson) as { critical_paths?: Array<{ from: string; to: string; path: PathStep[] }> };
  const path = (report.critical_paths ?? []).find((p) => p.from.startsWith('posedge') && p.to.startsWith('posedge'));
  if (!path || path.path.length === 0) return null;
  const sum = (type: string) => Math.round(path.path.filter((s) => s.type === type).reduce((a, s) => a + s.delay, 0) * 100) / 100;
  const clean = (cell: string) => cell.replace(/_SB_[A-Z0-9]+.*$|\$.*$/, '');
  return {
    from: clean(path.path[0]!.from.cell),
    to: clean(path.path.at(-1)!.to.cell),
    logic_levels: path.path.filter((s) => s.type === 'logic').length,
    logic_ns: Math.round((sum('logic') + sum('clk-to-q') + sum('setup')) * 100) / 100,
    routing_ns: sum('routing'),
  };
}

/** Logic cells, I/O, RAM, DSP and the achieved frequency of the clock from nextpnr's `--report` JSON. */
export function parseNextpnrReport(reportJson: string): NextpnrSummary {
  const report = JSON.parse(reportJson) as {
    utilization: Record<string, { used: number; available: number }>;
    fmax?: Record<string, { achieved: number; constraint: number }>;
  };
  const used = (name: string) => report.utilization[name]?.used ?? 0;
  const clocks = Object.values(report.fmax ?? {});
  // One clock (clk); with several, the slowest bounds the design.
  const fmax = clocks.length ? Math.min(...clocks.map((c) => c.achieved)) : null;
  return {
    lc: used('ICESTORM_LC'),
    io: used('SB_IO'),
    bram: used('ICESTORM_RAM'),
    dsp: used('ICESTORM_DSP'),
    fmax_mhz: fmax === null ? null : Math.round(fmax * 100) / 100,
  };
}
