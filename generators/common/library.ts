/** Hand-written leaf modules (templates/lib), copied verbatim into a block's rtl/ folder when it uses them. */
import { readFileSync } from 'node:fs';
import type { FileSet } from './files.ts';

const libDir = new URL('../../templates/lib/', import.meta.url);

export type LibraryModule = 'axis_skid_buffer';

export function libraryFiles(modules: readonly LibraryModule[]): FileSet {
  return new Map(modules.map((m) => [`${m}.v`, readFileSync(new URL(`${m}.v`, libDir), 'utf8')] as const));
}
