/**
 * The one manifest schema of every block (`<block>/rtl/manifest.json`): what the testbench, the synthesis flow, the
 * reports and a user read instead of re-deriving anything.
 */
import type { ProgramFormat } from './program.ts';
import { jsonBigint } from './verilog.ts';

/** A stream port of the top module. */
export interface ManifestPort {
  direction: 'in' | 'out';
  /** tdata width in bits. */
  tdata: number;
  /** What a beat carries and what tlast marks. */
  meaning: string;
}

/** A bit of the top's sticky `status_error` output (cleared by rst only). */
export interface ManifestError {
  bit: number;
  name: string;
  meaning: string;
}

/** A Verilog parameter of the top that a user may override, with its allowed range. */
export interface ManifestParameter {
  name: string;
  value: number;
  allowed: string;
  meaning: string;
}

export interface BlockManifest {
  block: string;
  /** The top module (prefixed). */
  top: string;
  prefix: string;
  /** Every Verilog file of the block, relative to rtl/. */
  files: string[];
  /** Parameters of the top a user may override (everything else is derived inside or fixed at generation). */
  parameters: ManifestParameter[];
  /** The resolved generation-time spec. */
  spec: unknown;
  /** Derived widths and constants, with the rounding and overflow rules named. */
  derived: Record<string, unknown>;
  latency: { cycles: number; formula: string };
  /** Steady-state throughput, measured by a test, and when it holds. */
  throughput: { elements_per_cycle: number; unit: string; condition: string };
  ports: Record<string, ManifestPort>;
  /** status_error bits; empty when the block has none. */
  errors: ManifestError[];
  /** The run-time program's word layout and the default program's file (relative to the block folder), if any. */
  program?: ProgramFormat & { file: string };
}

export function manifestJson(manifest: BlockManifest): string {
  return JSON.stringify(manifest, jsonBigint, 2) + '\n';
}
