/**
 * Emitters of the attention block's own leaf units (templates/attention), so that a test or the formal flow can
 * generate one alone at small widths.
 */
import { render } from '../common/render.ts';
import { moduleNames } from '../common/names.ts';
import { headerComment } from '../common/verilog.ts';

export const ATTENTION_MODULES = ['attention', 'attention_pv_term', 'attention_pv_acc', 'attention_fifo', 'attention_ram'] as const;
export type AttentionModule = (typeof ATTENTION_MODULES)[number];

export function attentionNames(prefix: string): Record<AttentionModule, string> {
  return moduleNames(prefix, ATTENTION_MODULES);
}

export interface PvWidths {
  /** Signed width of v - zp. */
  valueWidth: number;
  /** Width of the log2 code t (s_bits). */
  codeWidth: number;
  /** Signed width of one term (v - zp) << (2^s_bits - 1 - t). */
  termWidth: number;
  /** Signed width of the sum of a run. */
  accWidth: number;
}

/** The widths of the PV unit: a value of bits + 1 signed, a term of bits + 1 + 2^s_bits - 1, the sum of max_tokens terms. */
export function pvWidths(bits: number, sBits: number, accWidth: number): PvWidths {
  return { valueWidth: bits + 1, codeWidth: sBits, termWidth: bits + 1 + 2 ** sBits - 1, accWidth };
}

/** The combinational term (v - zp) * 2^-t by a shift (file name = module name). */
export function emitPvTerm(prefix: string, w: PvWidths, spec?: unknown): [string, string] {
  const names = attentionNames(prefix);
  return [`${names.attention_pv_term}.v`, render('attention/attention_pv_term.v', {
    header: headerComment(`${names.attention_pv_term}: one term of attention x V, by a shift`, spec ?? w), names, ...w,
  })];
}

/** The shift-accumulate unit (term, then accumulator). */
export function emitPvAcc(prefix: string, w: PvWidths, spec?: unknown): [string, string] {
  const names = attentionNames(prefix);
  return [`${names.attention_pv_acc}.v`, render('attention/attention_pv_acc.v', {
    header: headerComment(`${names.attention_pv_acc}: shift-accumulate of attention x V`, spec ?? w), names, ...w,
  })];
}

/** Register stages of the PV unit: the term register, then the accumulator (out_valid one cycle after the last term's accumulate). */
export const PV_STAGES = 2;
