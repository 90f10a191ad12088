/**
 * An SVG scatter chart of logic cells against error (same style and tick rule as generators/synth/plot.ts), with the
 * Pareto front joined and filled in. The error axis is logarithmic when every error is above zero and they span more
 * than a factor of ten (error halves with each bit), unless the chart asks for a linear one (an SQNR in dB). A design
 * that does not fit the device is drawn as a cross at nextpnr's packed count, never on the front. Same data → same bytes.
 */
import { niceStep } from '../synth/plot.ts';

export interface ScatterPoint {
  x: number;
  y: number;
  /** Written beside the point (e.g. `4b`). */
  label: string;
  /** Hover text. */
  title: string;
  front: boolean;
  /** False: the design does not fit the device (drawn as a cross). */
  fits?: boolean;
}

export interface ScatterChart {
  title: string;
  xLabel: string;
  yLabel: string;
  points: ScatterPoint[];
  /** 'linear' keeps the x axis linear (a figure in dB is already logarithmic); 'auto' (default) as above. */
  xScale?: 'auto' | 'linear';
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };
const FRONT = '#d62728';
const OTHER = '#7f7f7f';
const NO_FIT = '#1f77b4';

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function tickText(v: number): string {
  return v === 0 ? '0' : Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}

/** Pareto front of points to minimize in both x and y: those no other point matches or beats in both. */
export function paretoFront<T extends { x: number; y: number }>(points: readonly T[]): T[] {
  return points.filter((p) => !points.some((q) => q !== p && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y)));
}

export function scatterChartSvg(chart: ScatterChart): string {
  const xs = chart.points.map((p) => p.x);
  const ys = chart.points.map((p) => p.y);
  const xMinData = Math.min(...xs);
  const xMaxData = Math.max(...xs);
  const log = chart.xScale !== 'linear' && xs.length > 0 && xMinData > 0 && xMaxData / xMinData > 10;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const yMaxData = Math.max(0, ...ys);
  const yStep = niceStep(yMaxData * 1.05 || 1);
  const yMax = Math.ceil((yMaxData * 1.05 || 1) / yStep) * yStep;
  let xTicks: number[];
  let px: (x: number) => number;
  if (log) {
    const lo = Math.floor(Math.log10(xMinData));
    const hi = Math.ceil(Math.log10(xMaxData));
    xTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    px = (x) => MARGIN.left + ((Math.log10(x) - lo) / Math.max(1, hi - lo)) * plotW;
  } else {
    // From 0, or from below the smallest value when one is negative (an SQNR below 0 dB)
    const xMaxAxis = Math.max(0, xMaxData) * 1.05 || 1;
    const xMinAxis = Math.min(0, xMinData * 1.05);
    const step = niceStep(xMaxAxis - xMinAxis);
    const top = Math.ceil(xMaxAxis / step) * step;
    const bottom = Math.floor(xMinAxis / step) * step;
    xTicks = Array.from({ length: Math.round((top - bottom) / step) + 1 }, (_, i) => bottom + i * step);
    px = (x) => MARGIN.left + ((x - bottom) / (top - bottom)) * plotW;
  }
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`,
  ];
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    out.push(`<line x1="${MARGIN.left}" y1="${fmt(py(y))}" x2="${MARGIN.left + plotW}" y2="${fmt(py(y))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${fmt(py(y) + 4)}" text-anchor="end">${fmt(y)}</text>`);
  }
  for (const x of xTicks) {
    out.push(`<line x1="${fmt(px(x))}" y1="${MARGIN.top}" x2="${fmt(px(x))}" y2="${MARGIN.top + plotH + 5}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${fmt(px(x))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${tickText(x)}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="black"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(chart.xLabel + (log ? ' (log scale)' : ''))}</text>`);
  out.push(`<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(chart.yLabel)}</text>`);
  const front = chart.points.filter((p) => p.front).sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    out.push(`<polyline fill="none" stroke="${FRONT}" stroke-width="2" points="${front.map((p) => `${fmt(px(p.x))},${fmt(py(p.y))}`).join(' ')}"/>`);
  }
  for (const p of chart.points) {
    const color = p.fits === false ? NO_FIT : p.front ? FRONT : OTHER;
    const [x, y] = [px(p.x), py(p.y)];
    if (p.fits === false) {
      out.push(`<path d="M${fmt(x - 4)},${fmt(y - 4)}L${fmt(x + 4)},${fmt(y + 4)}M${fmt(x - 4)},${fmt(y + 4)}L${fmt(x + 4)},${fmt(y - 4)}" stroke="${color}" stroke-width="2"><title>${escapeXml(p.title)}</title></path>`);
    } else {
      out.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="4" fill="${p.front ? color : 'white'}" stroke="${color}" stroke-width="1.5"><title>${escapeXml(p.title)}</title></circle>`);
    }
    out.push(`<text x="${fmt(x + 6)}" y="${fmt(y - 6)}" fill="${color}">${escapeXml(p.label)}</text>`);
  }
  const ly = MARGIN.top + 10;
  out.push(`<circle cx="${WIDTH - MARGIN.right + 25}" cy="${ly}" r="4" fill="${FRONT}" stroke="${FRONT}"/>`);
  out.push(`<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 4}">Pareto front</text>`);
  out.push(`<circle cx="${WIDTH - MARGIN.right + 25}" cy="${ly + 20}" r="4" fill="white" stroke="${OTHER}" stroke-width="1.5"/>`);
  out.push(`<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 24}">dominated</text>`);
  if (chart.points.some((p) => p.fits === false)) {
    const [cx, cy] = [WIDTH - MARGIN.right + 25, ly + 40];
    out.push(`<path d="M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}" stroke="${NO_FIT}" stroke-width="2"/>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 40}" y="${cy + 4}">does not fit</text>`);
  }
  out.push('</svg>', '');
  return out.join('\n');
}
