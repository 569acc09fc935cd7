// The shapes `hopwatch compare` passes between its pure parts (pairs, variants, answers, differences)
// and its I/O. Imports nothing of src/compare/, so every file of the folder can use it.

import type { ErrorCode, Generator, HopResult, Route, Verdict } from '../model.js';

/** One side of a pair: which of the two front doors. */
export type Side = 'old' | 'new';

/** Two routes serving the same host and path through different front doors. */
export interface Pair {
  /** Stable id: the two route ids joined by ".." (old first; safe in a URL). */
  id: string;
  /** The front door being left. */
  old: Route;
  /** The front door being moved to. */
  new: Route;
  /** Host and path shared by both, e.g. "shop.example.com/api". */
  key: string;
  /** How the pair was found: named with --from/--to, or matched by host and path. */
  origin: 'explicit' | 'automatic';
}

/** Why a variant is sent: the probe request, or one of the known differences it exercises. */
export type VariantKind =
  | 'probe' // the route's probe request
  | 'head' // the same with HEAD
  | 'underscore-header' // a request header whose name has an underscore
  | 'large-header' // one request header near the old path's header limit
  | 'trailing-slash' // the path with (or without) a trailing slash
  | 'encoded-path' // a percent-encoded path segment
  | 'cors' // a cross-origin request (Origin header): CORS headers only answer one
  | 'match' // a request that selects one backend of a rule (canary header or cookie)
  | 'method'; // another method, only when asked

/** One request sent identically through both front doors. */
export interface Variant {
  /** Stable name, unique within a pair ("probe", "header-underscore", "match canary-by-header", "method POST"). */
  name: string;
  /** What the variant exercises. */
  kind: VariantKind;
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Extra request headers. */
  headers: [string, string][];
  /** A request body, null when none. */
  body: string | null;
  /** One line for humans: what it sends. */
  summary: string;
}

/** What one hop of one side answered to one variant. */
export interface Answer {
  /** The hop: edge, or one controller (proxy) pod. */
  hop: 'edge' | 'controller';
  /** What was dialled ("ip:port"). */
  target: string;
  /** namespace/name of the controller pod, null for the edge. */
  pod: string | null;
  /** HTTP status, null when no answer came. */
  status: number | null;
  /** Stable error code when no answer came. */
  error: ErrorCode | null;
  /** The error's detail, null when none. */
  errorDetail: string | null;
  /** Time to the response headers (or to the failure), ms. */
  ms: number;
  /** Chosen response headers (location, content-type, cache-control, CORS, set-cookie names). */
  headers: Record<string, string>;
  /** Body bytes. */
  bodyBytes: number;
  /** sha256 of the body with the answering pods' names and addresses masked, null when no body was read. */
  bodyDigest: string | null;
  /** Which component produced the answer (nginx, haproxy, envoy, upstream...). */
  generator: Generator | null;
}

/** One variant's answers on both sides. */
export interface VariantResult {
  /** The variant. */
  variant: Variant;
  /** Answers of the old front door (edge first, then each proxy pod). */
  old: Answer[];
  /** Answers of the new front door. */
  new: Answer[];
}

/** What differs between two answers. */
export type DifferenceKind = 'status' | 'location' | 'header' | 'cookies' | 'body' | 'latency' | 'backends' | 'verdict';

/** A difference the sample showed. */
export interface Difference {
  /** The variant that showed it ("probe", ...); "route" for differences of the routes themselves. */
  variant: string;
  /** What differs. */
  kind: DifferenceKind;
  /** The hop where it shows: edge, controller, or config for the routes' backends. */
  hop: 'edge' | 'controller' | 'config' | 'route';
  /** True when users would notice (status, location, headers, cookies, body, backends); latency alone does not matter. */
  matters: boolean;
  /** The old side's value, as text. */
  old: string;
  /** The new side's value, as text. */
  new: string;
  /** One line: what differs and its likely reason from both sides' settings. */
  summary: string;
  /** The likely reason, null when no known setting explains it. */
  reason: string | null;
  /** The setting difference it shows (so the same risk is not listed again), null when none is known. */
  cause: RiskKind | null;
}

/** What a difference of settings could break, a risk the sample could not show. */
export type RiskKind = 'timeout' | 'retries' | 'response-headers' | 'request-headers' | 'body-limit' | 'underscores' | 'keepalive' | 'rewrite' | 'cors';

/** A difference the two sides' settings predict but the sample did not show. */
export interface Risk {
  /** What it is about. */
  kind: RiskKind;
  /** The old side's setting, as text with its source. */
  old: string;
  /** The new side's setting, as text with its source. */
  new: string;
  /** One line: what users would see, and when. */
  summary: string;
}

/** How a pair compares. */
export type PairOutcome = 'alike' | 'different' | 'not-compared';

/** The comparison of one pair. */
export interface PairComparison {
  /** The pair's id. */
  id: string;
  /** Host and path. */
  key: string;
  /** How the pair was found. */
  origin: Pair['origin'];
  /** The old route: id, object and front door. */
  old: SideSummary;
  /** The new route. */
  new: SideSummary;
  /** alike: nothing that matters differs; different: something does; not-compared: a side could not be probed. */
  outcome: PairOutcome;
  /** Why not compared, null otherwise. */
  reason: string | null;
  /** Differences the sample showed, the ones that matter first. */
  differences: Difference[];
  /** Differences the settings predict that the sample did not show. */
  risks: Risk[];
  /** Every variant's answers. */
  variants: VariantResult[];
}

/** One side of a compared pair, for reports. */
export interface SideSummary {
  /** The route id. */
  route: string;
  /** "Ingress shop/web" or "HTTPRoute shop/web". */
  object: string;
  /** "IngressClass nginx (ingress-nginx)" or "Gateway infra/public listener http (...)". */
  frontDoor: string;
  /** The verdict of a normal probe round of the route (every hop). */
  verdict: Verdict;
  /** That round's hop results. */
  hops: HopResult[];
}
