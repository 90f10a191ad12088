/**
 * The pin harness: wraps a block whose ports exceed a package's pins in serial shift chains (5 pins in all: clk, rst,
 * serial_in, capture, serial_out), and the wiring stub that stands in for the block when the harness is synthesized
 * alone. Every design is measured through the harness, so that Fmax counts every path of the block register to
 * register (a combinational path from a pin would otherwise escape the clock's timing report).
 */
import { render } from '../common/render.ts';
import { headerComment } from '../common/verilog.ts';

export interface PortInfo {
  name: string;
  direction: 'input' | 'output';
  width: number;
}

/** Ports driven by the harness pins directly rather than through the chains. */
export const CLOCK_PORT = 'clk';
export const RESET_PORT = 'rst';
export const HARNESS_TOP = 'synth_harness';

/** Reads the top module's ports, in declaration order, from a Yosys `write_json` netlist. */
export function portsFromYosysJson(json: string, top: string): PortInfo[] {
  const netlist = JSON.parse(json) as { modules: Record<string, { ports: Record<string, { direction: string; bits: unknown[] }> }> };
  const module = netlist.modules[top];
  if (!module) throw new Error(`yosys netlist has no module ${top}`);
  return Object.entries(module.ports).map(([name, p]) => {
    if (p.direction !== 'input' && p.direction !== 'output') throw new Error(`${top}.${name}: ${p.direction} ports are not supported`);
    return { name, direction: p.direction, width: p.bits.length };
  });
}

interface ChainSlice {
  port: PortInfo;
  lsb: number;
}

/** Where each port sits in the input or the output chain (inputs other than clk/rst, then outputs). */
export function chainLayout(top: string, ports: PortInfo[]): { inputs: ChainSlice[]; outputs: ChainSlice[]; inWidth: number; outWidth: number } {
  const slices = (direction: PortInfo['direction']) => {
    let lsb = 0;
    const out: ChainSlice[] = [];
    for (const port of ports) {
      if (port.direction !== direction || port.name === CLOCK_PORT || port.name === RESET_PORT) continue;
      out.push({ port, lsb });
      lsb += port.width;
    }
    return { out, width: lsb };
  };
  const inputs = slices('input');
  const outputs = slices('output');
  if (!ports.some((p) => p.name === CLOCK_PORT && p.direction === 'input')) throw new Error(`${top} has no ${CLOCK_PORT} input`);
  if (inputs.width === 0 || outputs.width === 0) throw new Error(`${top} needs at least one data input and one output besides ${CLOCK_PORT}/${RESET_PORT}`);
  return { inputs: inputs.out, outputs: outputs.out, inWidth: inputs.width, outWidth: outputs.width };
}

function slice(signal: string, s: ChainSlice): string {
  return s.port.width === 1 ? `${signal}[${s.lsb}]` : `${signal}[${s.lsb + s.port.width - 1}:${s.lsb}]`;
}

/** The harness module `synth_harness` around `top`. */
export function emitHarness(top: string, ports: PortInfo[]): string {
  const layout = chainLayout(top, ports);
  const connections = [
    { port: CLOCK_PORT, signal: 'clk' },
    ...(ports.some((p) => p.name === RESET_PORT) ? [{ port: RESET_PORT, signal: 'rst' }] : []),
    ...layout.inputs.map((s) => ({ port: s.port.name, signal: slice('in_chain_reg', s) })),
    ...layout.outputs.map((s) => ({ port: s.port.name, signal: slice('block_out', s) })),
  ];
  return render('synth/synth_harness.v', {
    header: headerComment(`Synthesis harness around ${top}`, { top, inWidth: layout.inWidth, outWidth: layout.outWidth }),
    top,
    inWidth: layout.inWidth,
    outWidth: layout.outWidth,
    inShift: layout.inWidth === 1 ? 'serial_in' : `{in_chain_reg[${layout.inWidth - 2}:0], serial_in}`,
    outShift: layout.outWidth === 1 ? 'in_chain_reg[IN_WIDTH-1]' : `{out_chain_reg[${layout.outWidth - 2}:0], in_chain_reg[IN_WIDTH-1]}`,
    connections,
  });
}

/**
 * A module named `top` with the same ports, whose output bits are input bits (output bit i of the chain is input bit
 * i mod IN_WIDTH): no logic of its own, so harness + stub measures the harness.
 */
export function emitStub(top: string, ports: PortInfo[]): string {
  const layout = chainLayout(top, ports);
  const inputBits: string[] = [];
  for (const s of [...layout.inputs].reverse()) {
    for (let b = s.port.width - 1; b >= 0; b--) inputBits.push(s.port.width === 1 ? s.port.name : `${s.port.name}[${b}]`);
  }
  const assigns = layout.outputs.map((s) => {
    const bits: string[] = [];
    for (let b = s.port.width - 1; b >= 0; b--) bits.push(`in_bits[${(s.lsb + b) % layout.inWidth}]`);
    return { name: s.port.name, bits: bits.join(', ') };
  });
  return render('synth/synth_stub.v', {
    header: headerComment(`Wiring stub standing in for ${top} in the harness-alone synthesis`, { top, inWidth: layout.inWidth, outWidth: layout.outWidth }),
    top,
    ports: ports.map((p, i) => ({
      direction: p.direction === 'input' ? 'input ' : 'output',
      range: p.width === 1 ? '' : `[${p.width - 1}:0] `,
      name: p.name,
      last: i === ports.length - 1,
    })),
    inMsb: layout.inWidth - 1,
    inConcat: inputBits.join(', '),
    assigns,
  });
}
