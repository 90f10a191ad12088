/**
 * Validation of user-facing specs. Each helper names the parameter and the allowed range in its error, so that a
 * block's `resolveSpec` reads as a list of rules.
 */
import { SpecError } from './errors.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An integer in [min, max], as a JSON number (a string such as "4" is refused: JSON says what it means). */
export function intInRange(parameter: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SpecError(parameter, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** An integer in [min, max] written on the command line (decimal digits, optionally signed). */
export function cliInt(parameter: string, value: string, min: number, max: number): number {
  return intInRange(parameter, /^[-+]?\d+$/.test(value.trim()) ? Number(value) : value, min, max);
}

/** A finite number strictly greater than zero (a scale). */
export function positiveFinite(parameter: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SpecError(parameter, 'must be a finite number greater than 0', value);
  }
  return value;
}

/** Any finite number. */
export function finite(parameter: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SpecError(parameter, 'must be a finite number', value);
  }
  return value;
}

export function boolean(parameter: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SpecError(parameter, 'must be true or false', value);
  return value;
}

export function oneOf<T extends string>(parameter: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SpecError(parameter, `must be one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

/** A plain JSON object (not an array, not null). */
export function object(parameter: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecError(parameter, 'must be a JSON object', value);
  }
  return value as Record<string, unknown>;
}

/**
 * Rejects keys that the spec does not define, so that a typo is never silently ignored, and null values, so that
 * `null` is never mistaken for "use the default" (leaving the key out is how a default is asked for).
 */
export function onlyKeys(parameter: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new SpecError(`${parameter}.${key}`, `is not a parameter; allowed: ${allowed.join(', ')}`, value[key]);
    }
    if (value[key] === null) {
      throw new SpecError(`${parameter}.${key}`, 'must be a value, not null (leave the key out to get the default)', null);
    }
  }
}

/** An array of exactly `length` elements, each checked by `item`. */
export function arrayOf<T>(
  parameter: string,
  value: unknown,
  length: number | undefined,
  item: (parameter: string, v: unknown) => T,
): T[] {
  if (!Array.isArray(value)) throw new SpecError(parameter, 'must be an array', value);
  if (length !== undefined && value.length !== length) {
    throw new SpecError(parameter, `must have exactly ${length} elements`, value);
  }
  return value.map((v, i) => item(`${parameter}[${i}]`, v));
}

/** Checks a relation between parameters that single-field rules cannot express. */
export function require(condition: boolean, parameter: string, allowed: string, got: unknown): void {
  if (!condition) throw new SpecError(parameter, allowed, got);
}
