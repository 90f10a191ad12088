// Runs before `npm test` and `npm run gen`/`verify`/`synth`/`bench` (npm "pre" scripts): on a fresh clone, installs
// the locked npm packages once, so the README's commands work as written. Plain JavaScript: it runs before tsx exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const direct = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
if (direct.some((name) => !existsSync(new URL(`node_modules/${name}/package.json`, root)))) {
  process.stderr.write('installing the locked npm packages (npm ci)...\n');
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  } catch {
    // npm ci refuses a lock file without the other platforms' optional packages (rollup's), which a registry that
    // serves only this platform's builds leaves out; npm install takes the same locked versions and keeps the file.
    process.stderr.write('npm ci failed; installing the same locked versions with npm install...\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  }
}
