/**
 * The one place that writes generated files. Emitters return a FileSet (relative path → text); writing is atomic per
 * configuration folder: everything is staged in a temporary folder beside the target and renamed into place, so a
 * failure leaves either the old folder or the new one, never a half-written mix.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync, writeFileSync, accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from './errors.ts';

/** Relative path (forward slashes) → file content. */
export type FileSet = Map<string, string>;

export function mergeFileSets(...sets: FileSet[]): FileSet {
  const out: FileSet = new Map();
  for (const set of sets) {
    for (const [path, text] of set) {
      if (out.has(path)) throw new Error(`two emitters produced ${path}`);
      out.set(path, text);
    }
  }
  return out;
}

/** Fails with a UsageError, before anything is written, when `outRoot` cannot be created or written to. */
export function checkWritableFolder(parameter: string, outRoot: string): void {
  const target = resolve(outRoot);
  let probe = target;
  while (!existsSync(probe)) probe = dirname(probe);
  try {
    if (!statSync(probe).isDirectory()) throw new Error('not a folder');
    accessSync(probe, constants.W_OK);
    // access() says yes to root everywhere, also where nothing can be created (/proc, read-only mounts): try it.
    rmdirSync(mkdtempSync(join(probe, '.write-probe-')));
  } catch {
    throw new UsageError(`${parameter}: ${outRoot} must be a folder that can be created and written (${probe} is not writable)`);
  }
}

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync never returns where the parent exists but refuses
 * new entries with ENOENT (e.g. under /proc).
 */
function makeFolders(path: string): void {
  if (existsSync(path)) return;
  makeFolders(dirname(path));
  mkdirSync(path);
}

/**
 * Writes `files` as the folder `outRoot/name`, replacing what was there. Paths are sorted so the on-disk result
 * never depends on emitter order.
 */
export function writeFolderAtomic(outRoot: string, name: string, files: FileSet): string {
  const root = resolve(outRoot);
  makeFolders(root);
  const staging = mkdtempSync(join(root, `.${name}.staging-`));
  try {
    for (const path of [...files.keys()].sort()) {
      const full = resolve(staging, path);
      if (!full.startsWith(staging + sep)) throw new Error(`emitted path escapes its folder: ${path}`);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, files.get(path)!);
    }
    const target = join(root, name);
    const old = existsSync(target) ? mkdtempSync(join(root, `.${name}.old-`)) : undefined;
    if (old) renameSync(target, join(old, 'x'));
    renameSync(staging, target);
    if (old) rmSync(old, { recursive: true, force: true });
    return target;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
