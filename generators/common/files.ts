/**
 * The one place that writes generated files. Emitters return a FileSet (relative path → text); writing is atomic:
 * everything is staged in a temporary folder beside the target and renamed into place, so a failure leaves either
 * the old contents or the new ones, never a half-written mix. `writeEntriesAtomic` replaces only the entries (block
 * folders, top-level files) one call writes, so a later call never deletes what an earlier one wrote.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync, writeFileSync, accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
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
    writeFiles(staging, files);
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

/** Writes `files` under the existing folder `dir`, in sorted path order; a path that leaves `dir` is an error. */
function writeFiles(dir: string, files: FileSet): void {
  for (const path of [...files.keys()].sort()) {
    const full = resolve(dir, path);
    if (!full.startsWith(dir + sep)) throw new Error(`emitted path escapes its folder: ${path}`);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files.get(path)!);
  }
}

/** An entry of a folder that one call owns: a subfolder (its files) or a single file (its text). */
export type FolderEntry = FileSet | string;

const exists = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * Writes `entries` into the folder `outRoot/name`, creating it if needed. Each entry (a subfolder such as `gemm`, or a
 * file such as `configuration.json`) replaces whatever had its name; everything else in the folder stays as it was.
 * All entries are staged first, beside the target; only when every one is written are they renamed into place (and
 * put back if a rename fails), so an error leaves the folder as it was and no staging folder behind.
 */
export function writeEntriesAtomic(outRoot: string, name: string, entries: ReadonlyMap<string, FolderEntry>): string {
  for (const entry of entries.keys()) {
    if (entry === '' || entry === '.' || entry === '..' || /[\\/]/.test(entry)) throw new Error(`folder entry must be one plain name: ${entry}`);
  }
  const root = resolve(outRoot);
  makeFolders(root);
  const target = join(root, name);
  const staging = mkdtempSync(join(root, `.${name}.staging-`));
  try {
    for (const entry of [...entries.keys()].sort()) {
      const content = entries.get(entry)!;
      if (typeof content === 'string') {
        writeFileSync(join(staging, entry), content);
      } else {
        mkdirSync(join(staging, entry));
        writeFiles(join(staging, entry), content);
      }
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (!exists(target)) {
    try {
      renameSync(staging, target);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    }
    return target;
  }
  // The old entries go to a folder beside the target until every new one is in place.
  const old = mkdtempSync(join(root, `.${name}.old-`));
  const done: Array<{ entry: string; hadOld: boolean }> = [];
  try {
    for (const entry of [...entries.keys()].sort()) {
      const hadOld = exists(join(target, entry));
      if (hadOld) renameSync(join(target, entry), join(old, entry));
      done.push({ entry, hadOld });
      renameSync(join(staging, entry), join(target, entry));
    }
  } catch (err) {
    for (const { entry, hadOld } of done.reverse()) {
      // An entry still in staging was not moved in yet: only its old one was moved out.
      if (!exists(join(staging, entry))) rmSync(join(target, entry), { recursive: true, force: true });
      if (hadOld) renameSync(join(old, entry), join(target, entry));
    }
    rmSync(staging, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
    throw err;
  }
  rmSync(staging, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
  return target;
}
