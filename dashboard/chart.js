// The per-route timeline chart (uPlot): failed rounds per bucket stacked by hop (bars in the hop
// colours), edge latency p50/p95 lines on a second axis, incidents as shaded spans with a strip
// in their hop's colour along the top. Times are UTC, like the CLI.

import uPlot from './vendor/uplot/uPlot.esm.js';
import { HOP_COLOURS, HOPS } from './format.js';

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The hops that failed somewhere in the buckets, outermost first (anything else last, as "none"). */
function failingHops(buckets) {
  const seen = new Set();
  for (const b of buckets) for (const hop of Object.keys(b.failuresByHop)) seen.add(HOPS.includes(hop) ? hop : 'none');
  return [...HOPS, 'none'].filter((hop) => seen.has(hop));
}

function countOf(bucket, hop) {
  if (hop !== 'none') return bucket.failuresByHop[hop] ?? 0;
  return Object.entries(bucket.failuresByHop).filter(([k]) => !HOPS.includes(k)).reduce((n, [, v]) => n + v, 0);
}

/** uPlot's columns: x (seconds), the stack's cumulative sums (top layer first, as uPlot draws in order), p50, p95. */
export function chartData(buckets) {
  const hops = failingHops(buckets);
  const xs = buckets.map((b) => Date.parse(b.start) / 1000);
  const raw = hops.map((hop) => buckets.map((b) => countOf(b, hop)));
  const cumulative = [];
  let running = buckets.map(() => 0);
  for (const counts of raw) {
    running = running.map((v, i) => v + counts[i]);
    cumulative.push(running.map((v) => (v === 0 ? null : v)));
  }
  const p50 = buckets.map((b) => (b.latency ? b.latency.p50Ms : null));
  const p95 = buckets.map((b) => (b.latency ? b.latency.p95Ms : null));
  return { hops, raw, columns: [xs, ...cumulative.reverse(), p50, p95] };
}

function incidentSpans(u, incidents, nowSec) {
  return incidents.map((i) => {
    const from = Date.parse(i.openedAt) / 1000;
    const to = i.closedAt ? Date.parse(i.closedAt) / 1000 : nowSec;
    return { i, x0: u.valToPos(from, 'x', true), x1: u.valToPos(to, 'x', true) };
  });
}

/** Height of the band above the plot that holds the incident labels, in CSS pixels. */
const LABEL_BAND = 22;

/** Shades each incident's span behind the bars; over them, its edges and a strip in its hop's colour; its label above the plot. */
function incidentHooks(incidents) {
  const clip = (u, x) => Math.min(u.bbox.left + u.bbox.width, Math.max(u.bbox.left, x));
  const behind = (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    for (const { i, x0, x1 } of incidentSpans(u, incidents, Date.now() / 1000)) {
      const a = clip(u, x0);
      ctx.fillStyle = rgba(HOP_COLOURS[i.hop] ?? HOP_COLOURS.none, 0.1);
      ctx.fillRect(a, bbox.top, Math.max(clip(u, x1), a + 2) - a, bbox.height);
    }
    ctx.restore();
  };
  const over = (u) => {
    const { ctx, bbox } = u;
    const px = uPlot.pxRatio;
    ctx.save();
    ctx.font = `600 ${11 * px}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    const labels = [];
    for (const { i, x0, x1 } of incidentSpans(u, incidents, Date.now() / 1000)) {
      const colour = HOP_COLOURS[i.hop] ?? HOP_COLOURS.none;
      const a = clip(u, x0);
      const b = Math.max(clip(u, x1), a + 2);
      ctx.fillStyle = colour;
      ctx.fillRect(a, bbox.top - 6 * px, b - a, 4 * px);
      ctx.strokeStyle = colour;
      ctx.setLineDash([3 * px, 3 * px]);
      ctx.lineWidth = px;
      for (const x of [a, b]) {
        ctx.beginPath();
        ctx.moveTo(x, bbox.top - 6 * px);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
      }
      // The label sits in the band above the plot (the chart's top padding), never over the bars.
      const label = `#${i.id} ${i.cause}`;
      const w = ctx.measureText(label).width + 8 * px;
      const lx = Math.max(bbox.left, Math.min(a, bbox.left + bbox.width - w));
      const top = bbox.top - LABEL_BAND * px;
      ctx.fillStyle = 'rgba(255, 255, 255, 0.95)';
      ctx.fillRect(lx, top, w, 14 * px);
      ctx.fillStyle = '#1f2933';
      ctx.fillText(label, lx + 4 * px, top + 2 * px);
      labels.push({ id: i.id, left: lx / px, top: top / px, width: w / px, height: 14 });
    }
    // Where each label went, in CSS pixels of the canvas (the browser tests read it).
    u.incidentLabels = labels;
    ctx.restore();
  };
  return { drawClear: [behind], draw: [over] };
}

/** Time axis labels in UTC, 24-hour: "14:00", with the date under the first label and at midnight. */
function utcTicks(u, splits, axisIdx, space, incr) {
  return splits.map((s, k) => {
    const iso = new Date(s * 1000).toISOString();
    const day = iso.slice(5, 10);
    if (incr >= 86400) return day;
    const time = iso.slice(11, 16);
    return k === 0 || time === '00:00' ? `${time}\n${day}` : time;
  });
}

/** Tick steps of the time axis, in seconds: whole minutes and up. */
const TIME_INCREMENTS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000];

/** Tick steps of the failed-rounds axis: whole numbers only. */
const WHOLE_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** Share of the plot's height the bars may take (from the bottom). */
const BAR_LANE = 0.55;
/** Share of the plot's height the latency lines take (from the top). */
const LINE_LANE = 0.4;

const stamp = (sec) => new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');

function latencyText(u, si, idx) {
  const v = idx === null ? null : u.data[si][idx];
  return v === null || v === undefined ? '–' : `${v} ms`;
}

/** The newest bucket that has rounds (latency or failures), null for none: the legend's values off the chart. */
function latestIndex(buckets) {
  for (let i = buckets.length - 1; i >= 0; i--) {
    const b = buckets[i];
    if (b.latency || Object.keys(b.failuresByHop).length > 0) return i;
  }
  return null;
}

/** The start of the bucket that holds the instant (the newest start at or before it), undefined when none does. */
function firstBucketOf(xs, sec) {
  return xs.filter((x) => x <= sec).pop();
}

/** Options of the chart. */
function chartOptions(width, data, stepMs, incidents, latest, startSec) {
  const bars = uPlot.paths.bars({ size: [0.92, 64], align: 1 });
  const layers = [...data.hops].reverse();
  const rawOf = Object.fromEntries(data.hops.map((hop, k) => [hop, data.raw[k]]));
  return {
    width,
    height: 280,
    padding: [LABEL_BAND + 4, 8, 0, 0],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    legend: { live: true },
    scales: {
      // A bar covers its bucket [start, start + step): the axis ends where the newest bucket ends, or its bar is cut off.
      // History younger than the range: the axis starts at the bucket holding its first round, so fresh data fills the chart.
      x: { time: true, range: (u, min, max) => [startSec === null ? min : Math.max(min, firstBucketOf(data.columns[0], startSec) ?? min), max + stepMs / 1000] },
      // Two lanes, so the latency lines never cross the bars: the bars keep to the lower 55 % of the
      // plot, the latency to the upper 40 % (its scale reaches below zero, where nothing is drawn).
      n: { range: (u, min, max) => [0, Math.max(1, max) / BAR_LANE] },
      ms: { range: (u, min, max) => { const top = Math.max(1, max * 1.05); return [-top * (1 - LINE_LANE) / LINE_LANE, top]; } },
    },
    axes: [
      // Labels are whole minutes: ticks no finer than a minute, or a short history repeats "08:38" six times.
      { stroke: '#4b5563', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d7dbe0' }, values: utcTicks, size: 44, incrs: TIME_INCREMENTS },
      // Rounds are whole: no 0.5 ticks.
      { scale: 'n', label: 'failed rounds', stroke: '#4b5563', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d7dbe0' }, size: 56, incrs: WHOLE_INCREMENTS, filter: (u, splits) => splits.map((v) => (v <= u.scales.n.max * BAR_LANE + 1e-9 ? v : null)) },
      { scale: 'ms', side: 1, label: 'edge latency (ms)', stroke: '#4b5563', grid: { show: false }, size: 64, filter: (u, splits) => splits.map((v) => (v >= 0 ? v : null)) },
    ],
    series: [
      // Off the chart the legend shows the newest bucket (marked "latest"), not dashes until a hover.
      { label: 'UTC', value: (u, v, si, idx) => (idx === null || idx === undefined ? (latest === null ? '–' : `${stamp(data.columns[0][latest])} (latest)`) : stamp(v)) },
      ...layers.map((hop) => ({
        label: hop,
        scale: 'n',
        paths: bars,
        points: { show: false },
        fill: HOP_COLOURS[hop],
        stroke: HOP_COLOURS[hop],
        width: 0,
        // The legend shows this hop's own count, not the stack's running sum.
        value: (u, v, si, idx) => { const at = idx ?? latest; return at === null ? '–' : String(rawOf[hop][at]); },
      })),
      { label: 'p50', scale: 'ms', stroke: '#6b7280', width: 1.25, spanGaps: false, points: { show: false }, value: (u, v, si, idx) => latencyText(u, si, idx ?? latest) },
      { label: 'p95', scale: 'ms', stroke: '#111827', width: 1.5, dash: [4, 3], spanGaps: false, points: { show: false }, value: (u, v, si, idx) => latencyText(u, si, idx ?? latest) },
    ],
    hooks: incidentHooks(incidents),
  };
}

/**
 * Draws the chart into el (replacing what was there); onBucket(bucket) is called on a click;
 * options.startMs: when the history starts (the axis starts there when that is inside the range).
 * The uPlot instance is kept on el.uplot (the browser tests read positions from it).
 */
export function drawTimeline(el, timeline, incidents, onBucket, options = {}) {
  // Each refresh redraws: the previous chart and its observer go, or every refresh would leave one behind.
  el.resizeObserver?.disconnect();
  if (el.uplot) el.uplot.destroy();
  el.replaceChildren();
  const data = chartData(timeline.buckets);
  const u = new uPlot(chartOptions(Math.max(320, el.clientWidth), data, timeline.stepMs, incidents, latestIndex(timeline.buckets), options.startMs ? options.startMs / 1000 : null), data.columns, el);
  el.uplot = u;
  el.dataset.failingHops = data.hops.join(',');
  u.over.addEventListener('click', () => {
    // The bucket whose span [start, start + step) holds the pointer (uPlot's cursor index snaps to the nearest start).
    const left = u.cursor.left;
    const first = data.columns[0][0];
    if (left === undefined || left === null || left < 0 || first === undefined) return;
    const bucket = timeline.buckets[Math.floor((u.posToVal(left, 'x') - first) / (timeline.stepMs / 1000))];
    if (bucket) onBucket(bucket);
  });
  const resize = new ResizeObserver(() => {
    if (el.isConnected) u.setSize({ width: Math.max(320, el.clientWidth), height: 280 });
    else resize.disconnect();
  });
  resize.observe(el);
  el.resizeObserver = resize;
  return u;
}
