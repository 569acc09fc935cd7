// Pure: the likely reason for a difference, read from both sides' controller knowledge
// (src/classify/knowledge.ts controllerSettings). A Gateway implementation's entry there explains
// its side with no code here.

import type { ControllerSettings, Setting } from '../classify/knowledge.js';
import type { Answer, RiskKind, Side, Variant } from './types.js';

/** Both sides' settings (null: the route has no known controller). */
export interface SidesSettings {
  /** The old front door's settings. */
  old: ControllerSettings | null;
  /** The new front door's settings. */
  new: ControllerSettings | null;
}

/** What the reasoning knows besides the two answers. */
export interface ReasonContext {
  /** Both sides' settings. */
  settings: SidesSettings;
  /** The largest response header block the pods sent (bytes, from the pod hops), null when unknown. */
  podHeaderBytes: number | null;
}

/** A reason and the setting difference it names. */
export interface Reason {
  /** The text. */
  text: string;
  /** The setting difference. */
  cause: RiskKind;
}

/** "4.0 s", "800 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** "4 KiB", "15.0 KiB", "1 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

/** "200 after 3.0 s", "504 after 4.0 s", "no answer (timeout) after 10.0 s". */
export function describeAnswer(answer: Answer): string {
  const what = answer.status !== null ? String(answer.status) : `no answer (${answer.error ?? 'other'})`;
  return `${what} after ${formatMs(answer.ms)}`;
}

/** A setting as "proxy-read-timeout 2.0 s (configured)"; "none" for a null value. */
function settingText(name: string, setting: Setting<number | null>, unit: 'ms' | 'bytes'): string {
  const value = setting.value === null ? 'none' : unit === 'ms' ? formatMs(setting.value) : formatBytes(setting.value);
  return `${name} ${value} (${setting.source})`;
}

/** "ingress-nginx proxy-read-timeout 2.0 s (configured)", or "unknown controller" for a side without settings. */
export function readTimeoutText(s: ControllerSettings | null): string {
  return s === null ? 'read timeout unknown' : `${s.name} ${settingText(s.names.readTimeout, s.readTimeoutMs, 'ms')}`;
}

/** The response header buffer of a side, as text. */
export function bufferText(s: ControllerSettings | null): string {
  return s === null ? 'header buffer unknown' : `${s.name} ${settingText(s.names.proxyBuffer, s.proxyBufferBytes, 'bytes')}`;
}

/** The request header limits of a side, as text. */
export function requestHeadersText(s: ControllerSettings | null): string {
  const r = s?.request ?? null;
  if (s === null || r === null) return 'request header limits unknown';
  const parts = [r.headerLineBytes === null ? null : `${formatBytes(r.headerLineBytes)} per line`, r.headerBlockBytes === null ? null : `${formatBytes(r.headerBlockBytes)} in all`].filter(Boolean);
  return `${s.name} ${r.names.headers}: ${parts.length === 0 ? 'no limit known' : parts.join(', ')}`;
}

/** How a side treats header names with underscores, as text. */
export function underscoresText(s: ControllerSettings | null): string {
  const r = s?.request ?? null;
  if (s === null || r === null) return 'underscores in header names: unknown';
  const what = r.underscores === 'dropped' ? 'drops headers whose name has an underscore' : r.underscores === 'rejected' ? 'rejects requests with such headers (400)' : 'passes headers with underscores';
  return `${s.name} ${what} (${r.names.underscores})`;
}

/** The body limit of a side, as text. */
export function bodyLimitText(s: ControllerSettings | null): string {
  const b = s?.requestBodyBytes ?? null;
  if (s === null || b === null) return 'body limit unknown';
  return `${s.name} ${b.value === null ? 'no body limit' : `${s.request?.names.body ?? 'body limit'} ${formatBytes(b.value)} (${b.source})`}`;
}

/** The path rewrite of a side, as text. */
export function rewriteText(s: ControllerSettings | null): string {
  if (s === null) return 'rewrite unknown';
  return s.rewrite === null ? `${s.name} passes the path unchanged` : `${s.name} rewrites the path (${s.rewrite.source})`;
}

/** The retries of a side, as text. */
export function retriesText(s: ControllerSettings | null): string {
  return s === null ? 'retries unknown' : `${s.name} ${s.retries.summary}`;
}

/** The idle window of reused upstream connections of a side, as text. */
export function keepaliveText(s: ControllerSettings | null): string {
  if (s === null) return 'upstream keep-alive unknown';
  const v = s.upstreamKeepaliveTimeoutMs;
  return `${s.name} ${s.names.keepalive} ${v.value === null ? 'unknown' : v.value === 0 ? 'off (no reuse)' : formatMs(v.value)} (${v.source})`;
}

/** True when the answer is a failure of the path: no answer, or a 5xx. */
export function failed(answer: Answer): boolean {
  return answer.status === null || answer.status >= 500;
}

/** The likely reason two answers to a variant differ in status, null when no known setting explains it. */
export function statusReason(variant: Variant, old: Answer, fresh: Answer, ctx: ReasonContext): Reason | null {
  const byVariant = variantReason(variant, ctx);
  if (byVariant !== null) return byVariant;
  const [bad, good, badSide] = failed(fresh) && !failed(old) ? [fresh, old, 'new' as Side] : failed(old) && !failed(fresh) ? [old, fresh, 'old' as Side] : [null, null, null];
  if (bad !== null && good !== null && badSide !== null) return failureReason(bad, good, badSide, ctx);
  if (old.status === 413 || fresh.status === 413) return { cause: 'body-limit', text: `old path: ${bodyLimitText(ctx.settings.old)}; new path: ${bodyLimitText(ctx.settings.new)}` };
  return rewriteReason(ctx);
}

/** The reason a variant built to exercise one setting shows a difference. */
export function variantReason(variant: Variant, ctx: ReasonContext): Reason | null {
  const { old, new: fresh } = ctx.settings;
  switch (variant.kind) {
    // Only when the two sides' settings differ: with the same handling the variant's own setting is not
    // why it was answered otherwise (a backend failing under the requests sent at once is).
    case 'underscore-header':
      if (old?.request != null && fresh?.request != null && old.request.underscores === fresh.request.underscores) return null;
      return { cause: 'underscores', text: `old path: ${underscoresText(old)}; new path: ${underscoresText(fresh)}` };
    case 'large-header':
      if (old?.request != null && fresh?.request != null && old.request.headerLineBytes === fresh.request.headerLineBytes && old.request.headerBlockBytes === fresh.request.headerBlockBytes) return null;
      return { cause: 'request-headers', text: `old path: ${requestHeadersText(old)}; new path: ${requestHeadersText(fresh)}` };
    case 'cors':
      return corsReason(ctx);
    case 'probe':
    case 'head':
    case 'trailing-slash':
    case 'encoded-path':
    case 'match':
    case 'method':
      return null;
  }
}

/** One side fails where the other answers: a timeout or a header buffer, named with both sides' settings. */
function failureReason(bad: Answer, good: Answer, badSide: Side, ctx: ReasonContext): Reason | null {
  const goodSide: Side = badSide === 'old' ? 'new' : 'old';
  const [badSettings, goodSettings] = [ctx.settings[badSide], ctx.settings[goodSide]];
  const timedOut = bad.status === 504 || bad.error === 'timeout';
  if (timedOut) {
    const retried = badSettings?.retries.retriesReusedIdempotent === true ? ', retried on the next pod' : '';
    return { cause: 'timeout', text: `${badSide} path: ${describeAnswer(bad)} — ${readTimeoutText(badSettings)}${retried}; ${goodSide} path: ${describeAnswer(good)} — ${readTimeoutText(goodSettings)}` };
  }
  const buffer = badSettings?.proxyBufferBytes.value ?? null;
  if (bad.status === 502 && ctx.podHeaderBytes !== null && buffer !== null && ctx.podHeaderBytes > buffer) {
    return {
      cause: 'response-headers',
      text: `${badSide} path: 502 — the pods' ${formatBytes(ctx.podHeaderBytes)} response header block exceeds ${bufferText(badSettings)}; ${goodSide} path: ${describeAnswer(good)} — ${bufferText(goodSettings)}`,
    };
  }
  return null;
}

/** The CORS a side's controller answers itself, as text. */
export function corsText(s: ControllerSettings | null): string {
  if (s === null) return 'CORS unknown';
  return s.cors === null ? `${s.name} leaves CORS to the app` : `${s.name} answers CORS itself (${s.cors.source})`;
}

/** CORS headers that differ where one controller answers CORS itself and the other does not. */
export function corsReason(ctx: ReasonContext): Reason | null {
  const { old, new: fresh } = ctx.settings;
  if ((old?.cors === null) === (fresh?.cors === null)) return null;
  return { cause: 'cors', text: `old path: ${corsText(old)}; new path: ${corsText(fresh)}` };
}

/** Different bodies, redirects or 404s on the same request: the two paths send the pods different paths when their rewrites differ. */
export function rewriteReason(ctx: ReasonContext): Reason | null {
  const { old, new: fresh } = ctx.settings;
  if ((old?.rewrite?.value ?? null) === (fresh?.rewrite?.value ?? null)) return null;
  return { cause: 'rewrite', text: `the two paths send the pods different paths: old path: ${rewriteText(old)}; new path: ${rewriteText(fresh)}` };
}
