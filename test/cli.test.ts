// Bad input, table-driven: the CLI (each script's main in-process, and one case per script through tsx as a user runs
// it) and the spec loader (in-process, over every parameter of every block as documented by its JSDoc) get wrong
// types, NaN, negative and huge numbers, unknown keys, empty and malformed files and unwritable paths. Each must end
// with exit status 2 and one line naming the parameter, and leave no file behind.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../generators/common/errors.ts';
import { BLOCKS } from '../generators/registry.ts';
import { collectSections } from '../scripts/docs.ts';
import { generateConfiguration, main as genMain } from '../scripts/gen.ts';
import { main as verifyMain } from '../scripts/verify.ts';
import { runInProcess } from './setup/cli.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const scratch = mkdtempSync(join(tmpdir(), 'cli-'));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

interface CliCase {
  name: string;
  script: 'gen' | 'verify';
  args: string[];
  /** What the one stderr line must say (it always starts with "error: "). */
  message: RegExp;
}

const MAINS = { gen: genMain, verify: verifyMain };

const notAFolder = file('plain-file', 'x');
const genCases: CliCase[] = [
  { name: 'non-numeric --bits', script: 'gen', args: ['--bits', 'abc'], message: /^error: --bits: must be an integer from 2 to 16 \(got "abc"\)$/ },
  { name: 'fractional --bits', script: 'gen', args: ['--bits', '4.5'], message: /^error: --bits: must be an integer from 2 to 16 \(got "4.5"\)$/ },
  { name: 'negative --bits', script: 'gen', args: ['--bits=-3'], message: /^error: --bits: must be an integer from 2 to 16 \(got -3\)$/ },
  { name: 'negative --bits as a separate word', script: 'gen', args: ['--bits', '-3'], message: /^error: --bits: must be an integer from 2 to 16 \(got -3\)$/ },
  { name: 'huge --bits', script: 'gen', args: ['--bits', '99999999999999999999999'], message: /^error: --bits: must be an integer from 2 to 16/ },
  { name: 'NaN --bits', script: 'gen', args: ['--bits', 'NaN'], message: /^error: --bits: must be an integer from 2 to 16 \(got "NaN"\)$/ },
  { name: 'empty --bits', script: 'gen', args: ['--bits', ''], message: /^error: --bits: must be an integer from 2 to 16/ },
  { name: '--bits above the range', script: 'gen', args: ['--bits', '17'], message: /^error: --bits: must be an integer from 2 to 16 \(got 17\)$/ },
  { name: '--bits without a value', script: 'gen', args: ['--bits'], message: /^error: --bits: needs a value/ },
  { name: '--bits followed by another flag', script: 'gen', args: ['--bits', '--blocks', 'gemm'], message: /^error: --bits: needs a value/ },
  { name: 'unknown block', script: 'gen', args: ['--blocks', 'gemm,mystery'], message: /^error: --blocks: .*"mystery"/ },
  { name: 'unknown flag', script: 'gen', args: ['--frobnicate'], message: /^error: Unknown option '--frobnicate'.*allowed options/ },
  { name: 'stray positional argument', script: 'gen', args: ['stray'], message: /^error: .*'stray'.*allowed options/ },
  { name: 'missing spec file', script: 'gen', args: ['--spec', join(scratch, 'missing.json')], message: /^error: --spec: cannot read .*missing\.json$/ },
  { name: 'spec file is a folder', script: 'gen', args: ['--spec', scratch], message: /^error: --spec: cannot read / },
  { name: 'empty spec file', script: 'gen', args: ['--spec', file('empty.json', '')], message: /^error: --spec: .*empty\.json is not valid JSON/ },
  { name: 'malformed spec file', script: 'gen', args: ['--spec', file('malformed.json', '{"gemm": {"rows": ')], message: /^error: --spec: .*malformed\.json is not valid JSON/ },
  { name: 'NaN in a spec file', script: 'gen', args: ['--spec', file('nan.json', '{"gemm": {"rows": NaN}}')], message: /^error: --spec: .*nan\.json is not valid JSON/ },
  { name: 'spec file holding an array', script: 'gen', args: ['--spec', file('array.json', '[1, 2]')], message: /^error: --spec: must be a JSON object \(got an array of 2\)$/ },
  { name: 'spec file holding null', script: 'gen', args: ['--spec', file('null.json', 'null')], message: /^error: --spec: must be a JSON object \(got null\)$/ },
  { name: 'null for a parameter in a spec file', script: 'gen', args: ['--spec', file('null-param.json', '{"gemm": {"rows": null}}')], message: /^error: gemm\.rows: must be a value, not null/ },
  { name: 'a number written as a string in a spec file', script: 'gen', args: ['--spec', file('string-number.json', '{"softmax": {"n": "16"}}')], message: /^error: softmax\.n: must be an integer from 1 to 30 \(got "16"\)$/ },
  { name: 'unknown block in a spec file', script: 'gen', args: ['--spec', file('unknown-block.json', '{"mystery": {}}')], message: /^error: --spec\.mystery: is not a parameter; allowed: prefix, gemm, layernorm, softmax, attention, gelu, residual, encoder/ },
  { name: '--out under a file', script: 'gen', args: ['--out', join(notAFolder, 'sub')], message: /^error: --out: .* must be a folder that can be created and written/ },
  { name: '--out under /proc', script: 'gen', args: ['--out', '/proc/fqvit-hdl-out'], message: /^error: --out: .* must be a folder that can be created and written/ },
  { name: 'verify: --stall above the range', script: 'verify', args: ['--stall', '91'], message: /^error: --stall: must be an integer from 0 to 90 \(got 91\)$/ },
  { name: 'verify: --seed 0', script: 'verify', args: ['--seed', '0'], message: /^error: --seed: must be an integer from 1 to 2147483647/ },
  { name: 'verify: unknown simulator', script: 'verify', args: ['--sim', 'modelsim'], message: /^error: --sim: must be one of icarus, verilator \(got "modelsim"\)$/ },
  { name: 'verify: missing vector file', script: 'verify', args: ['--vectors', join(scratch, 'none.json')], message: /^error: .*none\.json/ },
  { name: 'verify: malformed vector file', script: 'verify', args: ['--vectors', file('bad-vectors.json', '{"cases": [')], message: /^error: .*bad-vectors\.json/ },
];

// Per block: a section of the wrong type, and a key the block does not have (a typo must never be ignored).
const blockCases: CliCase[] = BLOCKS.flatMap((b) => [
  { name: `${b.name}: section is a number`, script: 'gen' as const, args: ['--spec', file(`${b.name}-number.json`, `{"${b.name}": 5}`)], message: new RegExp(`^error: ${b.name}: must be a JSON object \\(got 5\\)$`) },
  { name: `${b.name}: unknown key`, script: 'gen' as const, args: ['--spec', file(`${b.name}-typo.json`, `{"${b.name}": {"no_such_parameter": 1}}`)], message: new RegExp(`^error: ${b.name}\\.no_such_parameter: is not a parameter; allowed: `) },
]);

describe('CLI: bad arguments and files end with exit status 2, one line on stderr, nothing written', () => {
  it('knows every registered block', () => {
    expect(BLOCKS.map((b) => b.name).sort()).toEqual(['attention', 'encoder', 'gelu', 'gemm', 'layernorm', 'residual', 'softmax']);
  });

  // In-process (test/setup/cli.ts), and the first case of each script again through tsx as a user runs it.
  const all = [...genCases, ...blockCases];
  const throughTsx = new Set(['gen', 'verify'].map((script) => all.find((c) => c.script === script)!.name));
  it.each(all.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const out = join(scratch, `out-${c.name.replace(/\W+/g, '-')}`);
    mkdirSync(out);
    const args = c.script === 'gen' && !c.args.includes('--out') ? [...c.args, '--out', out] : c.args;
    const runs: Array<{ exitCode?: number; stdout: string; stderr: string }> = [await runInProcess(MAINS[c.script], args)];
    if (throughTsx.has(c.name)) runs.push(await execa(tsx, [`scripts/${c.script}.ts`, ...args], { cwd: root, reject: false, env: { NODE_OPTIONS: '' } }));
    for (const run of runs) {
      expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode: 2, stdout: '' });
      const lines = run.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(c.message);
      expect(readdirSync(out)).toEqual([]);
    }
  });
});

type Section = ReturnType<typeof collectSections>[number];
type Param = Section['params'][number];

/** Values that no parameter of this kind may take, with why. */
function badValues(p: Param): Array<[string, unknown]> {
  const bad: Array<[string, unknown]> = [
    ['a string', 'seven'], ['true', true], ['an object', { value: 1 }], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
    ['null', null],
  ];
  if (p.type === 'number') {
    bad.push(['an array', [1]], ['a number written as a string', '3']);
    const range = /^(-?\d+)\.\.(-?\d+)$/.exec(p.range ?? '');
    if (range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      bad.push(['below the range', lo - 1], ['above the range', hi + 1], ['a fraction', lo + 0.5], ['huge', 1e308], ['negative huge', -1e308]);
    }
    if (/greater than 0|float > 0|\bscale\b/i.test(`${p.name} ${p.description}`)) bad.push(['negative', -1], ['zero', 0]);
  } else if (p.type.endsWith('[]')) {
    bad.push(['a number', 5], ['an array of strings', ['x']], ['an array holding NaN', [NaN]]);
  }
  return bad;
}

/**
 * A complete, valid override set per block, so that a bad value for one parameter is the only thing wrong (LayerNorm
 * takes its layer parameters in groups: alpha/in_scale_min/zero_point, gamma/beta/out_scale, or calibration rows).
 */
const VALID_BASE: Record<string, Record<string, unknown>> = {
  gemm: {},
  softmax: {},
  gelu: {},
  residual: {},
  layernorm: {
    channels: 8, alpha: [0, 1, 2, 3, 0, 1, 2, 3], in_scale_min: 0.05, zero_point: 7,
    gamma: [1, 0.5, -0.75, 1.25, 2, -1, 0.25, 1.5], beta: [0, 0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7], out_scale: 0.03,
    // gamma/out_scale reaches 67: above the default hardware bound at 4 bits (2^6), so the hardware is sized for it
    scale_ratio_bits: 8,
  },
};

/** The base with `param` set to `value`; calibration replaces the parameters it computes. */
function baseFor(block: string, param: string, value: unknown): Record<string, unknown> {
  const base = { ...VALID_BASE[block]! };
  if (param === 'calibration') for (const k of ['alpha', 'in_scale_min', 'zero_point']) delete base[k];
  return { ...base, [param]: value };
}

const sections = collectSections().filter((s) => s.title.startsWith('--spec'));
const blockOf = (s: Section) => s.title.match(/"(\w+)"/)![1]!;

describe('spec loader: every documented block parameter rejects values of the wrong kind, naming itself', () => {
  it('reads the parameters of every block from the JSDoc', () => {
    expect(sections.map(blockOf).sort()).toEqual(['attention', 'encoder', 'gelu', 'gemm', 'layernorm', 'residual', 'softmax']);
    for (const s of sections) expect(s.params.length).toBeGreaterThan(2);
  });

  it.each(Object.entries(VALID_BASE))('%s: the base spec each bad value is put into is itself valid', (block, base) => {
    const spec = file(`${block}-base.json`, JSON.stringify({ [block]: base }));
    expect(generateConfiguration({ bits: '4', blocks: block, spec }).files.size).toBeGreaterThan(2);
  });

  const rows = sections.flatMap((s) => s.params.flatMap((p) => badValues(p).map(([what, value]) => [blockOf(s), p.name, what, value] as const)));
  it.each(rows)('%s.%s: %s', (block, param, _what, value) => {
    let error: unknown;
    try {
      // Through the file loader where JSON can carry the value; NaN and Infinity cannot, so the parsed object goes
      // to the block's resolve, exactly as the loader hands it over.
      const overrides = baseFor(block, param, value);
      const text = JSON.stringify({ [block]: overrides });
      if (JSON.stringify(JSON.parse(text)) === JSON.stringify({ [block]: overrides }) && !Number.isNaN(value) && Math.abs(value as number) !== Infinity) {
        generateConfiguration({ bits: '4', blocks: block, spec: file(`${block}-${param}.json`, text) });
      }
      BLOCKS.find((b) => b.name === block)!.resolve(4, overrides);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(new RegExp(`^${block}\\.${param}\\b`));
  });

  it.each(sections.map((s) => [blockOf(s)]))('%s: the parameters the block accepts are exactly the documented ones', (block) => {
    const documented = sections.find((s) => blockOf(s) === block)!.params.map((p) => p.name);
    let error: unknown;
    try {
      BLOCKS.find((b) => b.name === block)!.resolve(4, { not_documented: 1 });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).toBe(`${block}.not_documented: is not a parameter; allowed: ${documented.join(', ')} (got 1)`);
  });
});
