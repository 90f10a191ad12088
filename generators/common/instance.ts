/**
 * verify --one-instance, shared by the blocks whose cases are encoder steps: one simulation runs several cases back
 * to back; its output beats are cut into one report row per case, compared with the golden model (RTL) and with the
 * case's reference codes (model).
 */
import type { BlockName, CaseReport } from '../block.ts';
import { compareBeats, type Beat } from './sim.ts';

/** Differences of the model's codes from a case's reference codes: how many, and the largest. */
export function againstReference(model: readonly number[], reference: readonly number[]): { mismatches: number; maxAbsDiff: number } {
  let mismatches = 0;
  let maxAbsDiff = 0;
  model.forEach((code, i) => {
    const d = Math.abs(code - reference[i]!);
    if (d !== 0) { mismatches++; maxAbsDiff = Math.max(maxAbsDiff, d); }
  });
  return { mismatches, maxAbsDiff };
}

/**
 * Report rows of cases run back to back: each case owns the next `count` beats of `expected` and `actual`, and
 * `codes` reads its elements from its beats (common/lanes.ts: tokenCodes) to compare with its reference codes.
 */
export function reportsPerCase(
  block: BlockName,
  cases: ReadonlyArray<{ index: number; count: number; reference: readonly number[]; codes: (beats: readonly Beat[]) => number[] }>,
  expected: readonly Beat[],
  actual: readonly Beat[],
): CaseReport[] {
  let at = 0;
  return cases.map(({ index, count, reference, codes }) => {
    const mine = expected.slice(at, at + count);
    const cmp = compareBeats(mine, actual.slice(at, at + count));
    const ref = againstReference(codes(mine), reference);
    at += count;
    return { block, index, elements: reference.length, rtl_vs_model: cmp.mismatches, model_vs_expect: ref.mismatches, max_abs_diff: ref.maxAbsDiff, ...(cmp.first ? { first: cmp.first } : {}) };
  });
}
