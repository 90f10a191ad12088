// Installs the simulators and linters the suite needs (Debian's packages, as root) once before any test runs.
import { ensureIcarus, ensureVerilator } from '../../generators/common/sim.ts';

export default async function setup(): Promise<void> {
  await ensureIcarus();
  await ensureVerilator();
}
