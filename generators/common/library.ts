/**
 * Hand-written leaf modules (templates/lib), copied into a block's rtl/ folder when it uses them. Each copy is named
 * `<prefix>_<scope>_<module>` (names.ts), so that the copies of several blocks and configurations never collide.
 */
import type { FileSet } from './files.ts';
import { moduleName } from './names.ts';
import { render } from './render.ts';

export type LibraryModule = 'axis_skid_buffer' | 'shift_add_step' | 'fifo';
export const LIBRARY_MODULES: readonly LibraryModule[] = ['axis_skid_buffer', 'shift_add_step', 'fifo'];

/**
 * Segment width of shift_add_step's carry-deferred accumulator (and of the comparisons that read it): on an iCE40
 * HX8K a carry chain of about 20 bits plus its routing fits in 10 ns.
 */
export const CARRY_SEGMENT_BITS = 20;

/** Segments of a `width`-bit value. */
export function carrySegments(width: number): number {
  return Math.ceil(width / CARRY_SEGMENT_BITS);
}

/** The module name of a library leaf for a block (`scope`) of a configuration (`prefix`). */
export function libraryName(module: LibraryModule, prefix = '', scope = ''): string {
  return moduleName(prefix, scope === '' ? module : `${scope}_${module}`);
}

/** The leaves' files, `<name>.v` each, named as `libraryName` says. */
export function libraryFiles(modules: readonly LibraryModule[], prefix = '', scope = ''): FileSet {
  return new Map(modules.map((m) => {
    const name = libraryName(m, prefix, scope);
    return [`${name}.v`, render(`lib/${m}.v`, { name })] as const;
  }));
}
