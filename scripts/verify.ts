/**
 * npm run verify: simulates the RTL and compares it with the golden model, either on each block's default stimulus
 * (--bits) or on every case of a vector file (--vectors). Exit status 1 when the RTL differs from the model anywhere,
 * or when the model stands farther from a vector file's expected outputs than its block's tolerance allows; 2 for a
 * case whose block the project does not know.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BLOCK_NAMES, toleranceViolations, type Block, type CaseReport, type DefaultReport } from '../generators/block.ts';
import { UsageError } from '../generators/common/errors.ts';
import { SIMULATORS } from '../generators/common/sim.ts';
import { cliInt, object, oneOf } from '../generators/common/validate.ts';
import { readVectorFile } from '../generators/common/vectors.ts';
import { BLOCKS, blockByName } from '../generators/registry.ts';
import { configNaming, parseBits, parseBlocks, parseCli, readSpecFile, resolveBlocks, runMain, selectBlocks } from './cli.ts';
import { VERIFY_HELP } from './help.generated.ts';

const WORK_ROOT = resolve('build', 'verify');

/** A plain text table: columns padded to their widest cell. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** A case whose `block` is not a block of this project is a usage error (exit 2), found before anything runs. */
export function checkCaseBlocks(path: string, cases: ReadonlyArray<{ block: string }>): void {
  // A block's own name, or the cases another block runs (caseBlock: attention, gelu and residual run `encoder` cases)
  const known = [...new Set([...BLOCK_NAMES, ...BLOCKS.flatMap((b) => (b.caseBlock ? [b.caseBlock] : []))])];
  const unknown = cases.findIndex((c) => !known.includes(c.block));
  if (unknown >= 0) {
    throw new UsageError(`--vectors: case ${unknown} of ${path} has block ${JSON.stringify(cases[unknown]!.block)}, which is not a block of this project (known: ${known.join(', ')})`);
  }
}

/**
 * With --vectors, a --spec file chooses only each block's hardware (Block.caseHardware: lanes, the array's shape, ...);
 * every other key is fixed by the cases, so giving one is a usage error rather than silently ignored.
 */
export function caseHardware(spec: ReturnType<typeof readSpecFile>, blocks: ReadonlyArray<Block<unknown>>): Map<string, Record<string, unknown>> {
  const chosen = new Map<string, Record<string, unknown>>();
  for (const block of blocks) {
    if (spec?.blocks[block.name] === undefined) continue;
    const section = object(`--spec ${block.name}`, spec.blocks[block.name]);
    const allowed = block.caseHardware ?? [];
    const fixed = Object.keys(section).filter((key) => !allowed.includes(key));
    if (fixed.length > 0) {
      const may = allowed.length ? `only ${allowed.join(', ')}` : 'nothing';
      throw new UsageError(`--spec: ${block.name}.${fixed[0]} is fixed by each vector case; with --vectors the section "${block.name}" may set ${may}`);
    }
    chosen.set(block.name, section);
  }
  return chosen;
}

/** This run's own folder under build/verify (two runs at once never share one), made when first needed. */
let runRoot: string | undefined;

function workDir(...parts: string[]): string {
  if (runRoot === undefined) {
    mkdirSync(WORK_ROOT, { recursive: true });
    runRoot = mkdtempSync(join(WORK_ROOT, 'run-'));
  }
  const dir = join(runRoot, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  runRoot = undefined; // each call is a run with its own folder (the tests call main several times in one process)
  const args = parseCli(argv, {
    bits: { type: 'string' },
    blocks: { type: 'string' },
    spec: { type: 'string' },
    vectors: { type: 'string' },
    json: { type: 'boolean' },
    stall: { type: 'string' },
    seed: { type: 'string' },
    vcd: { type: 'boolean' },
    sim: { type: 'string' },
    'one-instance': { type: 'boolean' },
    dump: { type: 'string' },
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
    ...(args.dump === undefined ? {} : { dumpDir: resolve(args.dump) }),
  };
  const log = (line: string) => process.stdout.write(`${line}\n`);

  if (args.vectors !== undefined) {
    if (args.bits !== undefined) throw new UsageError('--bits: not used with --vectors (each case gives its widths); choose hardware with --spec');
    const file = readVectorFile(args.vectors);
    checkCaseBlocks(args.vectors, file.cases);
    const hardware = caseHardware(readSpecFile(args.spec), blocks.map((b) => blockByName(b)!));
    const reports: CaseReport[] = [];
    const record = (report: CaseReport, block: Block<unknown>) => {
      report.violations = toleranceViolations(report, block.tolerance);
      reports.push(report);
      if (!args.json) log(`case ${report.index} ${report.block}: ${report.elements} elements, rtl_vs_model ${report.rtl_vs_model}, model_vs_expect ${report.model_vs_expect}`);
      for (const v of report.violations) log(`case ${report.index} ${report.block} FAILS: ${v}`);
    };
    // --one-instance: a block with a one-instance mode runs all its cases through one generated instance per set of
    // generation-time widths; the others (gemm: its constants already stream per tile) run case by case.
    const instances: Record<string, number> = {};
    const oneInstance = args['one-instance'] ?? false;
    for (const block of blocks.map((b) => blockByName(b)!)) {
      const blockSim = { ...sim, ...(hardware.has(block.name) ? { hardware: hardware.get(block.name)! } : {}) };
      const cases = file.cases.flatMap((vectorCase, index) => (vectorCase.block === (block.caseBlock ?? block.name) ? [{ index, vectorCase }] : []));
      if (oneInstance && block.verifyOneInstance && cases.length > 0) {
        const run = await block.verifyOneInstance(cases, { ...blockSim, workDir: workDir('one-instance', block.name) });
        instances[block.name] = run.instances;
        for (const report of run.reports) record(report, block);
        continue;
      }
      for (const { index, vectorCase } of cases) {
        record(await block.verifyCase(vectorCase, index, { ...blockSim, workDir: workDir('vectors', `${block.name}-${index}`) }), block);
      }
    }
    reports.sort((a, b) => a.index - b.index || a.block.localeCompare(b.block));
    log(formatTable(
      ['case', 'block', 'elements', 'rtl_vs_model', 'model_vs_expect', 'max_abs_diff', 'acc_vs_expect', 'calibration', 'result'],
      reports.map((r) => [r.index, r.block, r.elements, r.rtl_vs_model, r.model_vs_expect, r.max_abs_diff, r.acc_vs_expect ?? '-', r.calibration ?? '-', r.violations!.length ? 'FAIL' : 'pass']),
    ));
    const failed = reports.filter((r) => r.violations!.length > 0).length;
    log(`${reports.length - failed} passed, ${failed} failed (RTL equal to the model, model within its block's tolerance: README, "Verification results")`);
    const chosen = hardware.size ? { hardware: Object.fromEntries(hardware) } : {};
    if (args.json) log(JSON.stringify(oneInstance ? { cases: reports, instances, ...chosen } : { cases: reports, ...chosen }));
    return failed ? 1 : 0;
  }

  const bits = parseBits(args.bits);
  const spec = readSpecFile(args.spec);
  const selected = selectBlocks(args.blocks, bits, spec);
  for (const line of selected.skipped) process.stderr.write(`${line}\n`);
  const { folder: name, prefix } = configNaming(bits, spec, undefined);
  const resolved = resolveBlocks(bits, selected.blocks, spec, prefix);
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
