// Runs before `npm test` and `npm run gen`/`verify`/`synth`/`bench` (npm "pre" scripts): on a fresh clone, installs
// the locked npm packages once, so the README's commands work as written. Plain JavaScript: it runs before tsx exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const direct = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
if (direct.some((name) => !existsSync(new URL(`node_modules/${name}/package.json`, root)))) {
  // Not npm ci: it refuses a lock file without the other platforms' optional packages (rollup's), which a registry
  // serving only this platform's builds leaves out. npm install --no-save takes the same locked versions and never
  // rewrites the lock file.
  process.stderr.write('installing the locked npm packages (npm install --no-save)...\n');
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
}
