// hopwatch.io/* annotations on an Ingress: per-route probe settings. A bad
// value is data about the route (it becomes notProbeable with a reason naming
// the annotation), never an exception: the Ingress is the user's, not hopwatch's config.

/** The annotations hopwatch reads from an Ingress. */
export const ANNOTATIONS = {
  /** Path to request instead of the route's path (required for regex paths). */
  probePath: 'hopwatch.io/probe-path',
  /** Expected status codes: "200", "200,301", "2xx", "200-299" (items may be combined with commas). */
  expectStatus: 'hopwatch.io/expect-status',
  /** "true": discover the routes but never probe them. */
  ignore: 'hopwatch.io/ignore',
  /** A schedule override, kept raw (the daemon validates it). */
  schedule: 'hopwatch.io/schedule',
} as const;

/** Probe settings read from one Ingress's annotations. */
export interface AnnotationSettings {
  /** hopwatch.io/probe-path when valid, else null. */
  probePath: string | null;
  /** hopwatch.io/expect-status as sorted distinct codes when valid, else null. */
  expectStatus: number[] | null;
  /** hopwatch.io/ignore is "true". */
  ignore: boolean;
  /** hopwatch.io/schedule, trimmed, null when absent or blank. */
  schedule: string | null;
  /** Reasons the annotations make the Ingress's routes not probeable (empty when all are valid). */
  problems: string[];
}

/** Reads hopwatch's annotations; problems name the annotation and the bad value. */
export function readAnnotations(annotations: Readonly<Record<string, string>>): AnnotationSettings {
  const problems: string[] = [];
  const rawPath = annotations[ANNOTATIONS.probePath];
  const probePath = rawPath === undefined ? null : parseProbePath(rawPath);
  if (rawPath !== undefined && probePath === null) {
    problems.push(
      `${ANNOTATIONS.probePath} must be a path starting with "/" without spaces, got ${JSON.stringify(rawPath)}`,
    );
  }
  const rawStatus = annotations[ANNOTATIONS.expectStatus];
  const expectStatus = rawStatus === undefined ? null : parseExpectStatus(rawStatus);
  if (rawStatus !== undefined && expectStatus === null) {
    problems.push(
      `${ANNOTATIONS.expectStatus} must list status codes like "200", "200,301", "2xx" or "200-299", got ${JSON.stringify(rawStatus)}`,
    );
  }
  const schedule = annotations[ANNOTATIONS.schedule]?.trim() || null;
  const ignore = annotations[ANNOTATIONS.ignore]?.trim().toLowerCase() === 'true';
  return { probePath, expectStatus, ignore, schedule, problems };
}

/** A probe path: starts with "/", no whitespace or control characters; null when invalid. */
export function parseProbePath(value: string): string | null {
  const path = value.trim();
  if (!path.startsWith('/') || /[\s\u0000-\u001f\u007f]/.test(path)) return null;
  return path;
}

/** Parses "200", "200,301", "2xx", "200-299" (and comma-separated mixes) into sorted distinct codes; null when invalid. */
export function parseExpectStatus(value: string): number[] | null {
  const items = value.split(',').map((item) => item.trim());
  const codes = new Set<number>();
  for (const item of items) {
    const range = statusItemRange(item);
    if (!range) return null;
    for (let code = range[0]; code <= range[1]; code += 1) codes.add(code);
  }
  return [...codes].sort((a, b) => a - b);
}

/** One item as an inclusive range of codes within 100..599; null when invalid. */
function statusItemRange(item: string): [number, number] | null {
  let range: [number, number] | null = null;
  const single = /^(\d{3})$/.exec(item);
  const klass = /^([1-5])xx$/i.exec(item);
  const span = /^(\d{3})\s*-\s*(\d{3})$/.exec(item);
  if (single) range = [Number(single[1]), Number(single[1])];
  else if (klass) range = [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99];
  else if (span) range = [Number(span[1]), Number(span[2])];
  if (!range || range[0] < 100 || range[1] > 599 || range[0] > range[1]) return null;
  return range;
}
