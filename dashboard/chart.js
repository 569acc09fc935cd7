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

/** Shades each incident's span behind the bars; over them, its edges and a label in its hop's colour. */
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
      const label = `#${i.id} ${i.cause}`;
      const w = ctx.measureText(label).width + 8 * px;
      const lx = Math.min(a + 3 * px, bbox.left + bbox.width - w);
      ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
      ctx.fillRect(lx, bbox.top + 2 * px, w, 15 * px);
      ctx.fillStyle = colour;
      ctx.fillText(label, lx + 4 * px, bbox.top + 4 * px);
    }
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

/** Tick steps of the failed-rounds axis: whole numbers only. */
const WHOLE_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** Options of the chart. */
function chartOptions(width, data, stepMs, incidents) {
  const bars = uPlot.paths.bars({ size: [0.92, 64], align: 1 });
  const layers = [...data.hops].reverse();
  const rawOf = Object.fromEntries(data.hops.map((hop, k) => [hop, data.raw[k]]));
  return {
    width,
    height: 280,
    padding: [14, 8, 0, 0],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    legend: { live: true },
    scales: {
      // A bar covers its bucket [start, start + step): the axis ends where the newest bucket ends, or its bar is cut off.
      x: { time: true, range: (u, min, max) => [min, max + stepMs / 1000] },
      n: { range: (u, min, max) => [0, Math.max(1, max)] },
      ms: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] },
    },
    axes: [
      { stroke: '#4b5563', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d7dbe0' }, values: utcTicks, size: 44 },
      // Rounds are whole: no 0.5 ticks.
      { scale: 'n', label: 'failed rounds', stroke: '#4b5563', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d7dbe0' }, size: 56, incrs: WHOLE_INCREMENTS },
      { scale: 'ms', side: 1, label: 'edge latency (ms)', stroke: '#4b5563', grid: { show: false }, size: 64 },
    ],
    series: [
      { label: 'UTC', value: (u, v) => (v === null ? '–' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ')) },
      ...layers.map((hop) => ({
        label: hop,
        scale: 'n',
        paths: bars,
        points: { show: false },
        fill: HOP_COLOURS[hop],
        stroke: HOP_COLOURS[hop],
        width: 0,
        // The legend shows this hop's own count, not the stack's running sum.
        value: (u, v, si, idx) => (idx === null || idx === undefined ? '–' : String(rawOf[hop][idx])),
      })),
      { label: 'p50', scale: 'ms', stroke: '#6b7280', width: 1.25, spanGaps: false, points: { show: false }, value: (u, v) => (v === null ? '–' : `${v} ms`) },
      { label: 'p95', scale: 'ms', stroke: '#111827', width: 1.5, dash: [4, 3], spanGaps: false, points: { show: false }, value: (u, v) => (v === null ? '–' : `${v} ms`) },
    ],
    hooks: incidentHooks(incidents),
  };
}

/**
 * Draws the chart into el (replacing what was there); onBucket(bucket) is called on a click.
 * The uPlot instance is kept on el.uplot (the browser tests read positions from it).
 */
export function drawTimeline(el, timeline, incidents, onBucket) {
  // Each refresh redraws: the previous chart and its observer go, or every refresh would leave one behind.
  el.resizeObserver?.disconnect();
  if (el.uplot) el.uplot.destroy();
  el.replaceChildren();
  const data = chartData(timeline.buckets);
  const u = new uPlot(chartOptions(Math.max(320, el.clientWidth), data, timeline.stepMs, incidents), data.columns, el);
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
