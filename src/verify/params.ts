// Pure: the parameters of a verification, validated once for every front door (CLI flags, the
// query string of GET /api/v1/verify, a JSON body, Flagger's webhook metadata). Each error names
// the parameter as the caller spelled it.

import { DurationError, parseDuration } from '../config/duration.js';
import { LabelSelectorError, type LabelSelector, parseLabelSelector } from '../discovery/selectors.js';
import type { ObjectRef } from '../model.js';
import { VerifyParamError } from './errors.js';

/** Which pods are the canary. */
export type CanarySpec =
  /** The pods of the newest ReplicaSet of the backend's Deployment (by revision, then creation time). */
  | { kind: 'revision' }
  /** The pods a label selector matches, in the route's namespace. */
  | { kind: 'selector'; text: string; selector: LabelSelector }
  /** The pods of a weighted backend of the route (an ingress-nginx canary Ingress's Service), by Service name. */
  | { kind: 'backend'; service: string };

/** Pass/fail thresholds of a verification. */
export interface Thresholds {
  /** Most failed requests per hop group (canary pods, edge, controller pods, Service, DNS), as a ratio 0..1. */
  maxFailureRatio: number;
  /** Most p95 latency of the canary pods and of every HTTP hop group, null for no limit. */
  maxP95Ms: number | null;
  /** Most canary p95 / stable p95 (only when the canary is also slower by more than latencySlackMs). */
  maxLatencyRatio: number;
  /** p95 differences up to this many ms are noise: never fail the latency ratio. */
  latencySlackMs: number;
  /** Most canary failure ratio minus stable failure ratio. */
  maxErrorRatioDelta: number;
}

/** The routing objects verify takes. */
export type VerifyKind = 'Ingress' | 'HTTPRoute';

/** A validated verification request. */
export interface VerifyParams {
  /** The routing object to verify (an Ingress, or an HTTPRoute with kind HTTPRoute; the field keeps its name for the JSON contract). */
  ingress: ObjectRef;
  /** Which kind of routing object `ingress` names: `ingress` (Ingress) or `httproute` (HTTPRoute) was given. */
  kind: VerifyKind;
  /** Only the route with this host (a wildcard route matches a concrete host, which is then sent); null: every host. */
  host: string | null;
  /** Only the route with this path; null: every path. */
  path: string | null;
  /** How long to fire requests. */
  durationMs: number;
  /** Time between ticks (each tick probes every hop once). */
  intervalMs: number;
  /** Pass/fail thresholds. */
  thresholds: Thresholds;
  /** Which pods are the canary. */
  canary: CanarySpec;
  /** Wait for this Deployment's newest ReplicaSet to be ready first (in the Ingress's namespace), null: no wait. */
  waitRollout: ObjectRef | null;
  /** Most time to wait for the rollout. */
  waitTimeoutMs: number;
}

/** Defaults of every optional parameter (documented in README.md). */
export const VERIFY_DEFAULTS = Object.freeze({
  durationMs: 60_000,
  intervalMs: 1_000,
  maxFailureRatio: 0,
  maxLatencyRatio: 2,
  latencySlackMs: 50,
  maxErrorRatioDelta: 0.05,
  waitTimeoutMs: 300_000,
});

/** Longest verification: keeps every loop (and every HTTP request waiting on one) bounded. */
export const MAX_DURATION_MS = 3_600_000;
/** Shortest interval between ticks. */
export const MIN_INTERVAL_MS = 50;
/** Longest wait for a rollout. */
export const MAX_WAIT_MS = 3_600_000;

/** Every parameter, in camelCase as the API and JSON bodies spell them. */
export const VERIFY_PARAMETERS = [
  'ingress', 'host', 'path', 'duration', 'interval', 'maxFailureRatio', 'maxP95Ms', 'maxLatencyRatio',
  'latencySlackMs', 'maxErrorRatioDelta', 'canary', 'revision', 'canaryBackend', 'waitRollout', 'waitTimeout',
  'httproute',
] as const;

/** One parameter's name. */
export type VerifyParameter = (typeof VERIFY_PARAMETERS)[number];

/** Raw parameters: strings (query, flags, Flagger metadata) or JSON values (a body). */
export type RawParams = Readonly<Record<string, unknown>>;

/** "max-failure-ratio" -> "maxFailureRatio"; camelCase stays as it is. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** "maxFailureRatio" -> "max-failure-ratio" (the CLI flag's spelling). */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Reads raw parameters (camelCase or kebab-case keys) into validated VerifyParams; throws VerifyParamError. */
export function parseVerifyParams(raw: RawParams): VerifyParams {
  const values = normalise(raw);
  const text = (name: VerifyParameter): string | null => textOf(values, name);
  const { kind, ref: ingress } = parseRoutingObject(values, text('ingress'), text('httproute'));
  const durationMs = parseMs(values, 'duration', text('duration'), VERIFY_DEFAULTS.durationMs, 1, MAX_DURATION_MS);
  const intervalMs = parseMs(values, 'interval', text('interval'), VERIFY_DEFAULTS.intervalMs, MIN_INTERVAL_MS, MAX_DURATION_MS);
  if (intervalMs > durationMs) throw param(values, 'interval', `must not be longer than the duration (${durationMs} ms)`);
  const waitName = text('waitRollout');
  if (waitName === null && text('waitTimeout') !== null) throw param(values, 'waitTimeout', 'only applies when waiting for a rollout (--wait-rollout, waitRollout)');
  return {
    ingress,
    kind,
    host: parseHost(values, text('host')),
    path: parsePath(values, text('path')),
    durationMs,
    intervalMs,
    thresholds: parseThresholds(values),
    canary: parseCanary(values, text('canary'), text('revision'), text('canaryBackend')),
    waitRollout: waitName === null ? null : parseDeployment(values, waitName, ingress.namespace),
    waitTimeoutMs: parseMs(values, 'waitTimeout', text('waitTimeout'), VERIFY_DEFAULTS.waitTimeoutMs, 1, MAX_WAIT_MS),
  };
}

/** The raw values by canonical name, remembering how each was spelled; unknown and repeated names are errors. */
interface Normalised {
  /** Value by canonical name. */
  byName: Map<VerifyParameter, unknown>;
  /** The caller's spelling by canonical name. */
  spelling: Map<VerifyParameter, string>;
}

function normalise(raw: RawParams): Normalised {
  const byName = new Map<VerifyParameter, unknown>();
  const spelling = new Map<VerifyParameter, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const name = camelCase(key);
    if (!isParameter(name)) throw new VerifyParamError(key, `unknown parameter; known: ${VERIFY_PARAMETERS.join(', ')}`);
    if (byName.has(name)) throw new VerifyParamError(key, `given twice (as "${spelling.get(name) ?? name}" too)`);
    byName.set(name, value);
    spelling.set(name, key);
  }
  return { byName, spelling };
}

function isParameter(name: string): name is VerifyParameter {
  return (VERIFY_PARAMETERS as readonly string[]).includes(name);
}

function param(values: Normalised, name: VerifyParameter, reason: string, cause?: unknown): VerifyParamError {
  return new VerifyParamError(values.spelling.get(name) ?? name, reason, cause === undefined ? undefined : { cause });
}

/** A parameter as text; numbers and booleans of JSON bodies become their text; arrays (a repeated query key) are errors. */
function textOf(values: Normalised, name: VerifyParameter): string | null {
  const value = values.byName.get(name);
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) throw param(values, name, 'given more than once');
  throw param(values, name, 'must be a string or a number');
}

function parseRef(values: Normalised, name: VerifyParameter, text: string | null, namespace: string | null): ObjectRef | null {
  if (text === null) return null;
  const parts = text.split('/');
  const [first = '', second] = parts;
  if (parts.length === 2 && validName(first) && second !== undefined && validName(second)) return { namespace: first, name: second };
  if (parts.length === 1 && namespace !== null && validName(first)) return { namespace, name: first };
  throw param(values, name, `expected NAMESPACE/NAME (lowercase DNS names), got ${JSON.stringify(text)}`);
}

/** The routing object: ingress (NS/NAME of an Ingress) or httproute (NS/NAME of an HTTPRoute), exactly one. */
function parseRoutingObject(values: Normalised, ingress: string | null, httproute: string | null): { kind: VerifyKind; ref: ObjectRef } {
  if (ingress !== null && httproute !== null) throw param(values, 'httproute', 'give either ingress or httproute, not both');
  const route = parseRef(values, 'httproute', httproute, null);
  if (route !== null) return { kind: 'HTTPRoute', ref: route };
  const ref = parseRef(values, 'ingress', ingress, null);
  if (ref === null) throw param(values, 'ingress', 'required: NAMESPACE/NAME of the Ingress (or httproute: NAMESPACE/NAME of the HTTPRoute)');
  return { kind: 'Ingress', ref };
}

function validName(text: string): boolean {
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(text) && text.length <= 253;
}

/** "deployment/NAME" (also deployments/, deploy/, deployment.apps/), optionally "NAMESPACE/deployment/NAME". */
function parseDeployment(values: Normalised, text: string, namespace: string): ObjectRef {
  const parts = text.split('/');
  const [kind = '', name = ''] = parts.length === 3 ? parts.slice(1) : parts;
  const ns = parts.length === 3 ? (parts[0] ?? '') : namespace;
  const kinds = ['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps'];
  if ((parts.length === 2 || parts.length === 3) && kinds.includes(kind.toLowerCase()) && validName(name) && validName(ns)) {
    return { namespace: ns, name };
  }
  throw param(values, 'waitRollout', `expected deployment/NAME, got ${JSON.stringify(text)}`);
}

function parseHost(values: Normalised, text: string | null): string | null {
  if (text === null) return null;
  if (!/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(text)) throw param(values, 'host', `not a host name: ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

function parsePath(values: Normalised, text: string | null): string | null {
  if (text === null) return null;
  if (!text.startsWith('/')) throw param(values, 'path', `must start with "/", got ${JSON.stringify(text)}`);
  return text;
}

function parseMs(values: Normalised, name: VerifyParameter, text: string | null, fallback: number, min: number, max: number): number {
  if (text === null) return fallback;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw param(values, name, `${error.reason}; expected a duration like 30s, 1m30s, 250ms`, error);
    throw error;
  }
  if (ms < min || ms > max) throw param(values, name, `must be between ${min} ms and ${max / 60_000} minutes, got ${text}`);
  return ms;
}

function parseNumber(values: Normalised, name: VerifyParameter, min: number, max: number): number | null {
  const text = textOf(values, name);
  if (text === null) return null;
  const value = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || !Number.isFinite(value)) throw param(values, name, `expected a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  if (value < min || value > max) throw param(values, name, `must be between ${min} and ${max}, got ${text}`);
  return value;
}

function parseThresholds(values: Normalised): Thresholds {
  const d = VERIFY_DEFAULTS;
  const maxP95Ms = parseNumber(values, 'maxP95Ms', 0, 3_600_000);
  if (maxP95Ms === 0) throw param(values, 'maxP95Ms', 'must be above 0');
  return {
    maxFailureRatio: parseNumber(values, 'maxFailureRatio', 0, 1) ?? d.maxFailureRatio,
    maxP95Ms,
    maxLatencyRatio: parseNumber(values, 'maxLatencyRatio', 1, 1000) ?? d.maxLatencyRatio,
    latencySlackMs: parseNumber(values, 'latencySlackMs', 0, 3_600_000) ?? d.latencySlackMs,
    maxErrorRatioDelta: parseNumber(values, 'maxErrorRatioDelta', 0, 1) ?? d.maxErrorRatioDelta,
  };
}

function parseCanary(values: Normalised, canary: string | null, revision: string | null, backend: string | null): CanarySpec {
  if (canary !== null && revision !== null) throw param(values, 'canary', 'give either canary (a selector) or revision, not both');
  if (backend !== null) {
    if (canary !== null || revision !== null) throw param(values, 'canaryBackend', 'give either canary-backend, canary (a selector) or revision, not several');
    if (!validName(backend)) throw param(values, 'canaryBackend', `${JSON.stringify(backend)} is not a Service name`);
    return { kind: 'backend', service: backend };
  }
  if (revision !== null && revision !== 'latest') throw param(values, 'revision', `only "latest" is supported, got ${JSON.stringify(revision)}`);
  if (canary === null) return { kind: 'revision' };
  try {
    const selector = parseLabelSelector(canary);
    if (selector.length === 0) throw param(values, 'canary', 'an empty selector would select every pod');
    return { kind: 'selector', text: canary, selector };
  } catch (error) {
    if (error instanceof LabelSelectorError) throw param(values, 'canary', error.reason, error);
    throw error;
  }
}
