/** Reads a vector file in the format of ../shared/vectors/FORMAT.md. */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.ts';

/** Reads and parses a JSON file a user named with `parameter`; a missing, unreadable or malformed file is a UsageError. */
export function readJsonFile(parameter: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${parameter}: cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${parameter}: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

export interface VectorFile {
  source?: string;
  cases: Array<Record<string, unknown> & { block: string }>;
}

export function readVectorFile(path: string): VectorFile {
  const json = readJsonFile('--vectors', path);
  const cases = (json as { cases?: unknown }).cases;
  if (!Array.isArray(cases) || cases.some((c) => typeof c !== 'object' || c === null || typeof c.block !== 'string')) {
    throw new UsageError(`--vectors: ${path} must hold {"cases": [...]} where every case has a "block" string`);
  }
  return json as VectorFile;
}

/** A 2-D integer array field of a case, checked for shape. */
export function intMatrix(c: Record<string, unknown>, field: string, rows?: number, cols?: number): number[][] {
  const v = c[field];
  const ok = Array.isArray(v) && (rows === undefined || v.length === rows) &&
    v.every((r) => Array.isArray(r) && (cols === undefined || r.length === cols) && r.every((x) => x === null || Number.isInteger(x)));
  if (!ok) throw new UsageError(`vector case field ${field} must be a ${rows ?? 'N'} x ${cols ?? 'M'} integer array`);
  return v as number[][];
}
