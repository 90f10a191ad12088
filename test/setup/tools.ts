// Before any test runs: installs the simulators and linters the suite needs (Debian's packages, as root), and gives
// the run a temporary folder of its own. Tests and the tools they start (iverilog, Verilator, make) leave work folders
// behind for a failing case to be looked at; they go under this folder, which is removed when the run ends, unless
// FQVIT_KEEP_TEST_TMP=1 asks to keep it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureIcarus, ensureVerilator } from '../../generators/common/sim.ts';

export default async function setup(): Promise<() => void> {
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
