/**
 * Errors a user can fix. The CLI turns them into one line on stderr and exit status 2; anything else is a bug and
 * keeps its stack trace.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A parameter outside what is allowed: names the parameter, what is allowed and what was given. */
export class SpecError extends UsageError {
  constructor(
    readonly parameter: string,
    readonly allowed: string,
    readonly got: unknown,
  ) {
    super(`${parameter}: ${allowed} (got ${describe(got)})`);
    this.name = 'SpecError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}
