// Before any test runs: checks that FQ-ViT's reference vectors are beside the checkout (../shared/vectors, as CI has
// them), installs the simulators and linters the suite needs (Debian's packages, as root), and gives the run a
// temporary folder of its own. Tests and the tools they start (iverilog, Verilator, make) leave work folders
// behind for a failing case to be looked at; they go under this folder, which is removed when the run ends, unless
// FQVIT_KEEP_TEST_TMP=1 asks to keep it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureIcarus, ensureVerilator } from '../../generators/common/sim.ts';

/** The vector files the tests read (test/*.test.ts open them as ../../shared/vectors/<file> from test/). */
const VECTOR_FILES = ['fqvit-public.json', 'fqvit-encoder-public.json'];

export default async function setup(): Promise<() => void> {
  const vectors = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
  const missing = VECTOR_FILES.filter((f) => !existsSync(join(vectors, f)));
  if (missing.length > 0) {
    throw new Error(`the test suite reads FQ-ViT's reference vectors from ${vectors} (a folder shared/ beside this checkout, as CI has it): ${missing.join(', ')} not found`);
  }
  await ensureIcarus();
  await ensureVerilator();
  const root = mkdtempSync(join(tmpdir(), 'fqvit-test-'));
  // The test workers are started after this and inherit the environment; os.tmpdir() reads TMPDIR.
  process.env.TMPDIR = root;
  return () => {
    if (process.env.FQVIT_KEEP_TEST_TMP === '1') process.stderr.write(`test work folders kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
}
