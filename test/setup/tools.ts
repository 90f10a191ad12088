// Installs the simulators the suite needs (Debian's packages, as root) once before any test runs.
import { ensureIcarus } from '../../generators/common/sim.ts';

export default async function setup(): Promise<void> {
  await ensureIcarus();
}
