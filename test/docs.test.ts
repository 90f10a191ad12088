import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectSections, GENERATED } from '../scripts/docs.ts';

// --help and docs/parameters.md are generated from the spec types' JSDoc; they must match what is committed.
describe('generated help and parameter reference', () => {
  const sections = collectSections();

  it.each(Object.keys(GENERATED))('%s is up to date (run npm run docs)', (path) => {
    const make = GENERATED[path as keyof typeof GENERATED];
    expect(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')).toBe(make(sections));
  });

  it('documents every CLI flag with a description', () => {
    const gen = sections.find((s) => s.title === 'npm run gen')!;
    expect(gen.params.map((p) => p.name)).toEqual(['bits', 'blocks', 'out', 'spec', 'prefix']);
    expect(gen.params.every((p) => p.description.length > 10)).toBe(true);
  });
});
