// Pure: controller settings inferred from the controller's own answers in the round. What was
// measured outranks what was declared (DESIGN.md): a controller's own 504 after ~3 s says its read
// timeout is ~3 s whatever hopwatch was told (a ConfigMap key, a per-location override or a snippet
// nobody mentioned, or a proxy of unknown kind), and a proxy's own 502 in front of pods that answer
// 200 with a large header block says its header buffer is smaller than that block. A setting
// hopwatch was not told about must not turn a clear pod fault into a controller fault.

import type { HopResult } from '../model.js';
import { type Context, controllerName, type Finding } from './context.js';
import { describeResult, describeSetting, describeTarget, formatBytes } from './evidence.js';

/** A setting inferred from what the controller answered, with the line that says how. */
export interface InferredSetting {
  /** The inferred value (ms or bytes). */
  value: number;
  /** "504 from nginx after 3.02 s on both replicas: effective read timeout ≈ 3 s". */
  evidence: string;
}

/**
 * The smallest response header block that overflows a common proxy's default buffer (nginx and
 * ingress-nginx proxy_buffer_size 4k, Kong 4k; HAProxy 15 KiB, Envoy 60 KiB): a proxy's own 502 in
 * front of pods answering a block this large is read as an overflow when the buffer is not known.
 */
export const SMALLEST_DEFAULT_HEADER_BUFFER = 4096;

/** The front's results that are the proxy's own answer (its error page), controller pods first; the edge when no controller pod was probed. */
function ownAnswers(ctx: Context, status: number): HopResult[] {
  const own = (r: HopResult): boolean => r.status === status && r.generator !== 'upstream';
  const controller = ctx.layers.controller.failed.filter(own);
  return controller.length > 0 ? controller : ctx.layers.edge.failed.filter(own);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** "3.02 s" */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** "≈ 3 s", "≈ 1.5 s": the inferred value rounded as a person would configure it. */
function roughly(ms: number): string {
  const s = ms / 1000;
  return `≈ ${s >= 10 ? Math.round(s) : Math.round(s * 10) / 10} s`;
}

/** "on both replicas", "on 1 of 2 replicas", "on the edge". */
function where(ctx: Context, results: readonly HopResult[]): string {
  if (results[0]?.hop === 'edge') return 'at the edge';
  const all = ctx.layers.controller.all.length;
  if (results.length === all) return all === 1 ? 'on its replica' : all === 2 ? 'on both replicas' : `on all ${all} replicas`;
  return `on ${results.length} of ${all} replicas`;
}

/**
 * How many pods the controller tried, one after the other, before its 504 at `atMs`: the fewest
 * (up to its tries on a timeout) that make each try shorter than the pods' answer, since a single
 * try that outlasted a pod's answer would have got that answer. 1 when the pods' timing is unknown.
 */
function attemptsOf(ctx: Context, atMs: number, podAnswerMs: number | null): number {
  const tries = Math.max(1, Math.min(ctx.settings?.retries.timeoutTries ?? 1, ctx.layers.pod.all.length));
  if (podAnswerMs === null) return 1;
  for (let k = 1; k <= tries; k++) if (atMs / k < podAnswerMs) return k;
  return tries;
}

/** The pods' earliest first byte among those that answered, null when none did. */
function podAnswerMs(ctx: Context): number | null {
  const times = ctx.layers.pod.ok.flatMap((r) => (r.timings.ttfbMs === undefined ? [] : [r.timings.ttfbMs]));
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * The controller's effective read timeout from its own 504s: the time to the 504, divided by the
 * pods it tried in turn on a timeout (ingress-nginx: proxy_next_upstream timeout, 3 tries). null
 * when no replica answered a 504 of its own.
 */
export function measuredReadTimeout(ctx: Context): InferredSetting | null {
  const answers = ownAnswers(ctx, 504).filter((r) => r.timings.ttfbMs !== undefined || r.timings.totalMs !== undefined);
  if (answers.length === 0) return null;
  const at = median(answers.map((r) => r.timings.ttfbMs ?? r.timings.totalMs ?? 0));
  const attempts = attemptsOf(ctx, at, podAnswerMs(ctx));
  const value = at / attempts;
  const from = answers.find((r) => r.generator !== null)?.generator ?? 'the proxy';
  const tries = attempts > 1 ? `, after trying ${attempts} pods in turn (${ctx.settings?.retries.summary ?? 'retries'})` : '';
  return { value, evidence: `504 from ${from} after ${seconds(at)} ${where(ctx, answers)}${tries}: effective read timeout ${roughly(value)}` };
}

/** True when the declared read timeout agrees with the measured one (within 20 %): the declared rule then says the same. */
function declaredAgrees(ctx: Context, measured: number): boolean {
  const declared = ctx.settings?.readTimeoutMs.value ?? null;
  return declared !== null && Math.abs(declared - measured) <= measured * 0.2;
}

/** The declared read timeout the measurement outranks, for evidence. */
function declaredReadTimeout(ctx: Context): string[] {
  const s = ctx.settings;
  if (s === null) return [];
  return [`declared: ${describeSetting(s.name, s.names.readTimeout, s.readTimeoutMs, 'ms')}; the controller's own answer outranks it`];
}

/**
 * Pods slower than the read timeout the controller's own 504s show: pod.timeout, whatever the
 * declared timeout says. null when the declared timeout agrees (the declared rule names it).
 */
export function measuredSlowPods(ctx: Context): Finding | null {
  const measured = measuredReadTimeout(ctx);
  if (measured === null || declaredAgrees(ctx, measured.value)) return null;
  const slow = ctx.layers.pod.ok.filter((r) => (r.timings.ttfbMs ?? 0) > measured.value);
  if (slow.length === 0) return null;
  const fastest = Math.min(...slow.map((r) => r.timings.ttfbMs ?? 0));
  const share = `${slow.length} of ${ctx.layers.pod.all.length} pods`;
  const answer = slow.length === ctx.layers.pod.all.length ? 'pods answer' : `${share} answer`;
  return {
    hop: 'pod',
    cause: 'pod.timeout',
    summary: `${share} send their first byte after ${seconds(fastest)} or later, past ${controllerName(ctx)}'s effective read timeout (${roughly(measured.value)}, measured from its own 504s): it gives up first`,
    evidence: [`${measured.evidence}; ${answer} after ${seconds(fastest)}`, ...declaredReadTimeout(ctx), ...slow.map(describeResult), ...ownAnswers(ctx, 504).map(describeResult)],
  };
}

/**
 * A proxy's own 502 in front of pods that all answer with a header block larger than the smallest
 * common default buffer, when the buffer the pods' block would overflow is not known (a proxy of
 * unknown kind) or is declared larger than the block (a buffer set where hopwatch was not told).
 */
export function inferredHeadersTooLarge(ctx: Context): Finding | null {
  const answers = ownAnswers(ctx, 502);
  const pods = ctx.layers.pod.ok;
  // A buffer the controller reads from configuration or an annotation stands; a kind's default is an assumption.
  const declared = ctx.settings?.proxyBufferBytes;
  if (declared !== undefined && declared.value !== null && !declared.source.endsWith('default')) return null;
  if (answers.length === 0 || pods.length === 0 || ctx.layers.pod.failed.length > 0) return null;
  const smallest = Math.min(...pods.map((r) => r.headerBytes));
  if (smallest < SMALLEST_DEFAULT_HEADER_BUFFER) return null;
  const from = answers.find((r) => r.generator !== null)?.generator ?? 'the proxy';
  const known = declared === undefined || declared.value === null ? 'its header buffer is not known' : `declared ${formatBytes(declared.value)} (${declared.source}), which the measurement outranks`;
  return {
    hop: 'pod',
    cause: 'pod.headers-too-large',
    summary: `${pods.length} of ${ctx.layers.pod.all.length} pods answer ${pods[0]?.status ?? '?'} with a header block of ${formatBytes(smallest)} or more, and ${controllerName(ctx)} answers its own 502: the block overflows its header buffer`,
    evidence: [
      `502 from ${from} ${where(ctx, answers)} while every pod answers ${pods[0]?.status ?? '?'} with a ${formatBytes(smallest)}+ header block: effective header buffer < ${formatBytes(smallest)} (${known})`,
      ...pods.map((r) => `${describeTarget(r)}: ${r.status ?? '?'} with a response header block of ${formatBytes(r.headerBytes)}`),
      ...answers.slice(0, 2).map(describeResult),
    ],
  };
}
