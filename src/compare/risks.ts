// Pure: what the two sides' settings predict the sample could not show. A risk is listed only
// where the new path is stricter than the old one (or behaves otherwise, for underscores and
// rewrites) and no difference of the sample already showed it.

import type { ControllerSettings } from '../classify/knowledge.js';
import {
  bodyLimitText,
  bufferText,
  corsText,
  formatBytes,
  formatMs,
  keepaliveText,
  readTimeoutText,
  requestHeadersText,
  retriesText,
  rewriteText,
  type SidesSettings,
  underscoresText,
} from './reasons.js';
import type { Risk, RiskKind } from './types.js';

/** A limit where null means none: true when `b` is strictly tighter than `a`. */
function tighter(a: number | null, b: number | null): boolean {
  if (b === null) return false;
  return a === null || b < a;
}

type RiskRule = (old: ControllerSettings, fresh: ControllerSettings) => Risk | null;

const timeoutRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.readTimeoutMs.value, fresh.readTimeoutMs.value];
  if (!tighter(a, b) || b === null) return null;
  const when = a === null ? `slower than ${formatMs(b)}` : `taking between ${formatMs(b)} and ${formatMs(a)}`;
  return { kind: 'timeout', old: readTimeoutText(old), new: readTimeoutText(fresh), summary: `a response ${when}: the new path answers 504 where the old one waits` };
};

const retriesRisk: RiskRule = (old, fresh) => {
  const lost = (old.retries.retriesReusedIdempotent && !fresh.retries.retriesReusedIdempotent) || (old.retries.retriesNonIdempotent && !fresh.retries.retriesNonIdempotent);
  if (!lost) return null;
  return {
    kind: 'retries', old: retriesText(old), new: retriesText(fresh),
    summary: 'a pod that fails or closes a kept-alive connection (a rollout, a crash): the new path answers 502/503 where the old one retried on the next pod',
  };
};

const responseHeadersRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.proxyBufferBytes.value, fresh.proxyBufferBytes.value];
  if (!tighter(a, b) || b === null) return null;
  const upTo = a === null ? '' : ` up to ${formatBytes(a)}`;
  return { kind: 'response-headers', old: bufferText(old), new: bufferText(fresh), summary: `a response header block over ${formatBytes(b)}${upTo} (large cookies, CSP): the new path answers 502` };
};

const requestHeadersRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.request, fresh.request];
  if (a === null || b === null) return null;
  const line = (r: NonNullable<ControllerSettings['request']>): number | null => (r.headerLineBytes === null ? r.headerBlockBytes : r.headerBlockBytes === null ? r.headerLineBytes : Math.min(r.headerLineBytes, r.headerBlockBytes));
  const lineTighter = tighter(line(a), line(b));
  if (!lineTighter && !tighter(a.headerBlockBytes, b.headerBlockBytes)) return null;
  const limit = lineTighter ? line(b) : b.headerBlockBytes;
  return { kind: 'request-headers', old: requestHeadersText(old), new: requestHeadersText(fresh), summary: `request headers over ${formatBytes(limit ?? 0)}${lineTighter ? ' in one line' : ' in all'} (big cookies, tokens): the new path answers 400 where the old one passes them` };
};

const bodyRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.requestBodyBytes?.value, fresh.requestBodyBytes?.value];
  if (a === undefined || b === undefined || !tighter(a, b) || b === null) return null;
  return { kind: 'body-limit', old: bodyLimitText(old), new: bodyLimitText(fresh), summary: `a request body over ${formatBytes(b)} (uploads): the new path answers 413 where the old one takes it` };
};

const underscoresRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.request?.underscores, fresh.request?.underscores];
  if (a === undefined || b === undefined || a === b) return null;
  const what = b === 'rejected' ? 'the new path rejects the request (400)' : b === 'dropped' ? 'the new path drops the header before the pods' : 'the pods start to see headers the old path dropped';
  return { kind: 'underscores', old: underscoresText(old), new: underscoresText(fresh), summary: `a client sending a header whose name has an underscore: ${what}` };
};

const keepaliveRisk: RiskRule = (old, fresh) => {
  const [a, b] = [old.upstreamKeepaliveTimeoutMs.value, fresh.upstreamKeepaliveTimeoutMs.value];
  if (a === null || b === null || b <= a) return null;
  return {
    kind: 'keepalive', old: keepaliveText(old), new: keepaliveText(fresh),
    summary: `pods that close idle connections after ${formatMs(a)} to ${formatMs(b)}: the new path reuses connections the pods are closing (rare 502s)`,
  };
};

const rewriteRisk: RiskRule = (old, fresh) => {
  if ((old.rewrite?.value ?? null) === (fresh.rewrite?.value ?? null)) return null;
  return { kind: 'rewrite', old: rewriteText(old), new: rewriteText(fresh), summary: 'the pods see other paths through the new path: links, redirects and routing in the app may break' };
};

const corsRisk: RiskRule = (old, fresh) => {
  if ((old.cors === null) === (fresh.cors === null)) return null;
  const what = fresh.cors === null ? 'browsers calling from another origin lose the CORS headers the old controller added' : 'the new controller adds CORS headers the app did not send';
  return { kind: 'cors', old: corsText(old), new: corsText(fresh), summary: `cross-origin requests: ${what}` };
};

const RULES: readonly RiskRule[] = [timeoutRisk, retriesRisk, responseHeadersRisk, requestHeadersRisk, bodyRisk, underscoresRisk, keepaliveRisk, rewriteRisk, corsRisk];

/** The risks both sides' settings predict, leaving out the kinds the sample already showed. */
export function predictRisks(settings: SidesSettings, shown: ReadonlySet<RiskKind>): Risk[] {
  const { old, new: fresh } = settings;
  if (old === null || fresh === null) return [];
  return RULES.map((rule) => rule(old, fresh)).filter((risk): risk is Risk => risk !== null && !shown.has(risk.kind));
}
