/**
 * npm run verify: simulates the RTL and compares it with the golden model, either on each block's default stimulus
 * (--bits) or on every case of a vector file (--vectors). Exit status 1 when the RTL differs from the model anywhere.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CaseReport, DefaultReport } from '../generators/block.ts';
import { SIMULATORS } from '../generators/common/sim.ts';
import { cliInt, oneOf } from '../generators/common/validate.ts';
import { readVectorFile } from '../generators/common/vectors.ts';
import { blockByName } from '../generators/registry.ts';
import { configName, parseBits, parseBlocks, parseCli, readSpecFile, runMain } from './cli.ts';
import { VERIFY_HELP } from './help.generated.ts';

const WORK_ROOT = resolve('build', 'verify');

/** A plain text table: columns padded to their widest cell. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function workDir(...parts: string[]): string {
  const dir = join(WORK_ROOT, ...parts);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function main(): Promise<number> {
  const args = parseCli(process.argv.slice(2), {
    bits: { type: 'string' },
    blocks: { type: 'string' },
    spec: { type: 'string' },
    vectors: { type: 'string' },
    json: { type: 'boolean' },
    stall: { type: 'string' },
    seed: { type: 'string' },
    vcd: { type: 'boolean' },
    sim: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help) {
    process.stdout.write(`${VERIFY_HELP}\n`);
    return 0;
  }
  const blocks = parseBlocks(args.blocks);
  const sim = {
    stallPercent: cliInt('--stall', args.stall ?? '20', 0, 90),
    seed: cliInt('--seed', args.seed ?? '1', 1, 2147483647),
    vcd: args.vcd ?? false,
    simulator: oneOf('--sim', args.sim ?? 'icarus', SIMULATORS),
  };
  const log = (line: string) => process.stdout.write(`${line}\n`);

  if (args.vectors !== undefined) {
    const file = readVectorFile(args.vectors);
    const reports: CaseReport[] = [];
    for (const [index, c] of file.cases.entries()) {
      // A block runs the cases named after it, or those of its caseBlock (attention runs `encoder` cases)
      for (const block of blocks.map((b) => blockByName(b)!).filter((b) => (b.caseBlock ?? b.name) === c.block)) {
        const dir = workDir('vectors', `${block.name}-${index}`);
        const report = await block.verifyCase(c, index, { ...sim, workDir: dir });
        reports.push(report);
        if (!args.json) log(`case ${index} ${block.name}: ${report.elements} elements, rtl_vs_model ${report.rtl_vs_model}, model_vs_expect ${report.model_vs_expect}`);
      }
    }
    log(formatTable(
      ['case', 'block', 'elements', 'rtl_vs_model', 'model_vs_expect', 'max_abs_diff', 'acc_vs_expect', 'calibration'],
      reports.map((r) => [r.index, r.block, r.elements, r.rtl_vs_model, r.model_vs_expect, r.max_abs_diff, r.acc_vs_expect ?? '-', r.calibration ?? '-']),
    ));
    const failed = reports.filter((r) => r.rtl_vs_model !== 0).length;
    log(`${reports.length - failed} passed, ${failed} failed`);
    if (args.json) log(JSON.stringify({ cases: reports }));
    return failed ? 1 : 0;
  }

  const bits = parseBits(args.bits);
  const spec = readSpecFile(args.spec);
  const name = configName(bits, spec);
  const resolved = blocks.map((b) => ({ block: blockByName(b)!, spec: blockByName(b)!.resolve(bits, spec?.blocks[b]) }));
  const reports: DefaultReport[] = [];
  for (const { block, spec: s } of resolved) {
    const dir = workDir(name, block.name);
    const report = await block.verifyDefault(s, { ...sim, workDir: dir });
    reports.push(report);
  }
  log(formatTable(
    ['block', 'module', 'elements', 'rtl_vs_model', 'cycles', 'latency'],
    reports.map((r) => [r.block, r.module, r.elements, r.rtl_vs_model, r.cycles, r.latency]),
  ));
  const failed = reports.filter((r) => r.rtl_vs_model !== 0).length;
  log(`${reports.length - failed} passed, ${failed} failed`);
  if (args.json) log(JSON.stringify({ configuration: name, blocks: reports }));
  return failed ? 1 : 0;
}

if (process.argv[1]?.endsWith('verify.ts')) runMain(main);
