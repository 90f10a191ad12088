// Runs before `npm test` and `npm run gen`/`verify`/`synth`/`bench` (npm "pre" scripts): on a fresh clone, installs
// the locked npm packages once, so the README's commands work as written. Plain JavaScript: it runs before tsx exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const direct = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
if (direct.some((name) => !existsSync(new URL(`node_modules/${name}/package.json`, root)))) {
  process.stderr.write('installing the locked npm packages (npm ci)...\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
}
