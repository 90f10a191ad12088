// The header comment of a generated file carries the spec as JSON, wrapped between tokens (after a comma outside a
// string) so that no value is cut, in lines of at most about 110 characters, the same bytes every time.
import { describe, expect, it } from 'vitest';
import { headerComment, wrapJson } from '../generators/common/verilog.ts';
import { BLOCKS } from '../generators/registry.ts';

/** The spec JSON of a header: its `// spec:` line and the continuation lines after it, joined. */
function specOfHeader(text: string): { json: string; lines: string[] } {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.startsWith('// spec: '));
  const body = [lines[first]!];
  for (let i = first + 1; i < lines.length && lines[i]!.startsWith('//       '); i++) body.push(lines[i]!);
  return { json: body.map((l) => l.slice(9)).join(''), lines: body };
}

describe('header comment', () => {
  it('wraps only after a comma outside a string, losing nothing', () => {
    const json = JSON.stringify({ a: 'x,y', b: [1, 2, 3], long: 'a string that is longer than the width' });
    const lines = wrapJson(json, 12);
    expect(lines.join('')).toBe(json);
    expect(lines).toEqual(['{"a":"x,y",', '"b":[1,2,3],', '"long":"a string that is longer than the width"}']);
    for (const line of lines.slice(0, -1)) expect(line.endsWith(',')).toBe(true);
  });

  it('a spec with a long array keeps every number whole and every line within 110 characters', () => {
    const spec = { gamma: Array.from({ length: 200 }, (_, i) => 1 / (i + 3)), name: 'x' };
    const header = headerComment('test', spec);
    const { json, lines } = specOfHeader(header);
    expect(JSON.parse(json)).toEqual(spec);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(110);
    // Every line but the last ends at a comma between two values: nothing cut mid-number.
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/,$/);
    expect(headerComment('test', spec)).toBe(header);
  });

  it.each(BLOCKS.map((b) => [b.name, b] as const))('%s: every generated Verilog header parses back to JSON, lines within 110 characters', (_name, block) => {
    for (const bits of [4, block.maxBits ?? 16]) {
      const files = block.generate(block.resolve(bits, undefined));
      let headers = 0;
      for (const [path, text] of files) {
        if (!path.endsWith('.v') || !text.includes('// spec: ')) continue;
        headers++;
        const { json, lines } = specOfHeader(text);
        expect(() => JSON.parse(json), `${path}: ${json.slice(0, 200)}`).not.toThrow();
        for (const line of lines) expect(line.length, `${path}: ${line}`).toBeLessThanOrEqual(110);
      }
      expect(headers).toBeGreaterThan(0);
    }
  });
});
