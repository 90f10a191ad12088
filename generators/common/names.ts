/**
 * Module names. Every generated module, and the file it is in, starts with the configuration's prefix, so that the
 * RTL of several configurations (and several blocks of one) can be read into one design with no duplicate module.
 * The CLI's default prefix is the configuration's folder name (bits4, bits4_1a2b3c4d), so names are unique per
 * configuration; --prefix (or "prefix" in a --spec file) sets it. An empty prefix leaves the base names.
 */
import { SpecError } from './errors.ts';

const PREFIX = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

/** Checks a prefix: a Verilog identifier of 1 to 32 letters, digits and underscores starting with a letter. */
export function checkPrefix(parameter: string, value: unknown): string {
  if (typeof value !== 'string' || !PREFIX.test(value)) {
    throw new SpecError(parameter, 'must be 1 to 32 letters, digits or underscores, starting with a letter', value);
  }
  return value;
}

/** `prefix_base`, or `base` when the prefix is empty. */
export function moduleName(prefix: string, base: string): string {
  return prefix === '' ? base : `${prefix}_${base}`;
}

/** The full names of a block's modules by base name, for templates (`{{names.softmax_fifo}}`). */
export function moduleNames<B extends string>(prefix: string, bases: readonly B[]): Record<B, string> {
  return Object.fromEntries(bases.map((b) => [b, moduleName(prefix, b)])) as Record<B, string>;
}
