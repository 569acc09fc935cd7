// Lab B end to end (test/lab/scenarios-b.ts): the real binary against a lab it was not tuned on. The
// controllers' timeouts are set where hopwatch is not told (its config declares no setting), HAProxy is
// declared as a proxy of unknown kind, the apps answer like Go's net/http. Every row asserts status,
// hop, cause and the evidence line with the measured or inferred figure, on nginx and on HAProxy.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { B_CONFIG, B_DEADLINE_MS, B_LAB_OPTIONS, type Flavour, ingressOf, scenarioB } from '../lab/scenarios-b.js';
import { runHopwatch } from './cli.js';

const FLAVOURS: Flavour[] = ['nginx', 'haproxy'];

interface RouteJson {
  namespace: string;
  ingress: string;
  durationMs: number;
  verdict: { status: string; hop: string | null; cause: string; summary: string; evidence: string[] };
  hops: { hop: string; status: number | null; headers: Record<string, string> }[];
  diagnoses: { pod: string | null; idleTimeout: { kind: string } | null }[];
}

let lab: Lab;
let configPath: string;

async function probe(...args: string[]): Promise<RouteJson[]> {
  const result = await runHopwatch(['probe', '--config', configPath, '-o', 'json', ...args]);
  if (result.stdout === '') throw new Error(`hopwatch probe printed nothing (exit ${result.code}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { routes: RouteJson[] }).routes;
}

function routeOf(routes: RouteJson[], namespace: string, name: string, flavour: Flavour): RouteJson {
  const route = routes.find((r) => r.namespace === namespace && r.ingress === ingressOf(name, flavour));
  if (!route) throw new Error(`no route ${namespace}/${ingressOf(name, flavour)} in ${routes.map((r) => r.ingress).join(', ')}`);
  return route;
}

beforeAll(async () => {
  lab = await startLab(scenarioB(), B_LAB_OPTIONS);
  configPath = join(lab.dir, 'hopwatch-b.yaml');
  await writeFile(configPath, lab.hopwatchConfig(B_CONFIG));
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('lab B: one round through the real binary', () => {
  let routes: RouteJson[];

  beforeAll(async () => {
    routes = await probe();
  }, 60_000);

  it.each(FLAVOURS)('a healthy route whose pods do not announce keep-alive is ready when its last hop answered (%s)', (flavour) => {
    const route = routeOf(routes, 'ledger', 'books', flavour);
    expect(route.verdict).toMatchObject({ status: 'ok', cause: 'ok' });
    // The pods keep connections alive without announcing for how long (no Keep-Alive header).
    const pods = route.hops.filter((h) => h.hop === 'pod');
    expect(pods.length).toBe(2);
    for (const pod of pods) expect(pod.headers['keep-alive']).toBeUndefined();
    // A one-shot round holds no idle connection: not measured, and the verdict does not wait for it.
    // (A proxy of unknown kind has no known keep-alive window to race, so nothing is asked of its pods.)
    const kinds = route.diagnoses.map((d) => d.idleTimeout?.kind);
    if (flavour === 'nginx') expect(kinds).toEqual(['not-measured', 'not-measured']);
    else expect(kinds).toEqual([]);
    expect(route.durationMs).toBeLessThan(B_DEADLINE_MS / 2);
  });

  it.each(FLAVOURS)('a read timeout hopwatch was not told (3 s, not 60 s): the controller\'s own 504 measures it, the slow pod is the cause (%s)', (flavour) => {
    const route = routeOf(routes, 'media', 'transcode', flavour);
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'pod', cause: 'pod.timeout' });
    const generator = flavour === 'nginx' ? 'nginx' : 'haproxy';
    const line = route.verdict.evidence.find((l) => l.startsWith(`504 from ${generator} after`));
    expect(line, route.verdict.evidence.join('\n')).toMatch(new RegExp(`^504 from ${generator} after 3\\.\\d\\d s on both replicas: effective read timeout ≈ 3(\\.\\d)? s; pods answer after 4\\.\\d\\d s$`));
    const declared = flavour === 'nginx' ? 'declared: ingress-nginx proxy-read-timeout: 60000 ms (ingress-nginx default)' : 'declared: the ingress controller read timeout: none (the ingress controller default)';
    expect(route.verdict.evidence).toContain(`${declared}; the controller's own answer outranks it`);
  });

  it('a per-location read timeout hopwatch is not told (HAProxy timeout-server 2 s on one backend): measured from its 504, the pod is the cause; nginx serves it', () => {
    const route = routeOf(routes, 'media', 'render', 'haproxy');
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'pod', cause: 'pod.timeout' });
    expect(route.verdict.evidence.join('\n')).toMatch(/^504 from haproxy after 2\.\d\d s on both replicas: effective read timeout ≈ 2(\.\d)? s; pods answer after 2\.\d\d s$/m);
    expect(routeOf(routes, 'media', 'render', 'nginx').verdict).toMatchObject({ status: 'ok', cause: 'ok' });
  });

  it.each(FLAVOURS)('pods answering 200 with a 20 KB header block behind a proxy\'s own 502 (%s)', (flavour) => {
    const route = routeOf(routes, 'media', 'thumbs', flavour);
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' });
    const evidence = route.verdict.evidence.join('\n');
    // nginx: the 4k default applies; HAProxy declared generic: its buffer is unknown, the 502 measures it.
    if (flavour === 'nginx') expect(evidence).toContain('ingress-nginx proxy-buffer-size: 4096 bytes (4.0 KiB) (ingress-nginx default)');
    else expect(evidence).toMatch(/502 from haproxy on both replicas while every pod answers 200 with a \d+ bytes \(\d+\.\d KiB\)\+ header block: effective header buffer < \d+ bytes .*\(its header buffer is not known\)/);
  });
});

describe('lab B: health checks', () => {
  let routes: RouteJson[];

  beforeAll(async () => {
    routes = await probe('-n', 'archive');
    routes.push(...(await probe('-n', 'telemetry')));
  }, 60_000);

  it.each(FLAVOURS)('a Ready pod answering 500 without a readinessProbe: the evidence says Kubernetes keeps sending it traffic (%s)', (flavour) => {
    const route = routeOf(routes, 'telemetry', 'ingest', flavour);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.verdict.evidence.join('\n')).toMatch(/pod telemetry\/ingest-\S+ answers 500 on \/ while Ready: it has no readinessProbe, so it stays in the Service's endpoints and Kubernetes keeps sending it traffic/);
  });

  it.each(FLAVOURS)('not-ready pods answering 503 are reported with what they answer, not only as never ready (%s)', (flavour) => {
    const route = routeOf(routes, 'archive', 'vault', flavour);
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'pod', cause: 'pod.crashloop' });
    expect(route.verdict.summary).toContain('2 of 2 pods never become ready; they answer 503 on /');
    expect(route.verdict.evidence.join('\n')).toMatch(/not ready, out of the endpoints: pod archive\/vault-\S+ \(\S+, not ready\): 503/);
    expect(route.verdict.evidence.join('\n')).toContain('readiness http-get :web/healthz');
  });
});

describe('lab B: legal but unusual objects', () => {
  it.each(FLAVOURS)('an ExternalName Service without ports whose name does not resolve: dns.failure, not a port mismatch (%s)', async (flavour) => {
    const route = routeOf(await probe('--ingress', `archive/${ingressOf('mainframe', flavour)}`), 'archive', 'mainframe', flavour);
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'dns', cause: 'dns.failure' });
    expect(route.verdict.summary).toBe('mainframe.dc2.invalid does not resolve');
    expect(route.verdict.evidence.join('\n')).toMatch(/dns mainframe\.dc2\.invalid: does not resolve/);
  });
});

describe('lab B: Services without selector, headless Services, named ports (as ingress-nginx reads them)', () => {
  let routes: RouteJson[];

  beforeAll(async () => {
    routes = await probe('-n', 'records');
  }, 60_000);

  it.each(FLAVOURS)('a Service without selector, its EndpointSlice written by hand with an unnamed port: the numeric targetPort is used, the failing VM is named (%s)', (flavour) => {
    const route = routeOf(routes, 'records', 'legacy', flavour);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.verdict.summary).toContain('1 of 2 pods answer 500');
    // Both hand-written endpoints are probed on the targetPort (no pod behind them: addresses only).
    expect(route.hops.filter((h) => h.hop === 'pod').map((h) => h.status).sort()).toEqual([200, 500]);
    expect(route.verdict.evidence.join('\n')).toMatch(/^pod 127\.\d+\.\d+\.\d+:9300: 500 in \d+ ms/m);
    expect(route.verdict.evidence).toContain('Service records/legacy port 8000 (http) -> targetPort 9300');
  });

  it.each(FLAVOURS)('a headless Service: no dns or Service hop, its endpoints probed, the failing pod named (%s)', (flavour) => {
    const route = routeOf(routes, 'records', 'journal', flavour);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.hops.map((h) => h.hop).filter((h) => h === 'dns' || h === 'service')).toEqual([]);
    const evidence = route.verdict.evidence.join('\n');
    expect(evidence).toMatch(/^pod records\/journal-\S+-1 answers 500 on \/ while Ready/m);
    // The headless name is not on the controller's path: no DNS noise about it.
    expect(evidence).not.toContain('does not resolve');
  });

  it.each(FLAVOURS)('a named targetPort mapping to another number on one pod: each pod probed on its own number (%s)', (flavour) => {
    const route = routeOf(routes, 'records', 'tally', flavour);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.hops.filter((h) => h.hop === 'pod').map((h) => h.status).sort()).toEqual([200, 500]);
    expect(route.verdict.evidence.join('\n')).toMatch(/^pod records\/tally-\S+-1 \(127\.\d+\.\d+\.\d+:9092\): 500 in \d+ ms/m);
  });
});

describe('lab B: apps that are themselves proxies', () => {
  let routes: RouteJson[];

  beforeAll(async () => {
    routes = await probe('-n', 'proxies');
  }, 60_000);

  it.each(FLAVOURS)('every pod answers its own nginx 502 page: the pods are the cause, not the controller (%s)', (flavour) => {
    const route = routeOf(routes, 'proxies', 'gateway', flavour);
    expect(route.verdict).toMatchObject({ status: 'failing', hop: 'pod', cause: 'pod.app-error' });
    expect(route.verdict.summary).toBe("2 of 2 pods answer 502 themselves with nginx's own error page: the app is itself a proxy whose upstream fails, not the controller");
    const evidence = route.verdict.evidence.join('\n');
    expect(evidence).toMatch(/^pod proxies\/gateway-\S+-0 \(127\.\d+\.\d+\.\d+:9091\): 502 from nginx in \d+ ms/m);
    expect(evidence).toContain("the 502 page at the pod hop is nginx's own, answered inside the pod (no controller stands between hopwatch and the pod); the controller passes it on");
  });

  it.each(FLAVOURS)('one pod of two answers its own nginx 504 page: that pod, not a read timeout of the controller (%s)', (flavour) => {
    const route = routeOf(routes, 'proxies', 'relay', flavour);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.verdict.summary).toBe("1 of 2 pods answer 504 themselves with nginx's own error page: the app is itself a proxy whose upstream fails, not the controller");
    const evidence = route.verdict.evidence.join('\n');
    expect(evidence).toMatch(/^pod proxies\/relay-\S+-1 \(127\.\d+\.\d+\.\d+:9091\): 504 from nginx in \d+ ms/m);
    expect(evidence).not.toContain('effective read timeout');
  });
});

describe('lab B: two Ingresses claim the same host and path', () => {
  it('the younger one loses: config.route-conflict naming the winner and ingress-nginx\'s rule; the winner stays ok (nginx)', async () => {
    const routes = await probe('-n', 'ledger');
    const loser = routes.find((r) => r.ingress === 'a-books');
    expect(loser?.verdict).toMatchObject({ status: 'degraded', hop: 'config', cause: 'config.route-conflict' });
    expect(loser?.verdict.summary).toContain('which Ingress ledger/books also claims and wins');
    expect(loser?.verdict.evidence.join('\n')).toMatch(/ledger\/books wins books\.ngx\.b-lab\.example\/: (created \S+, before this one \(\S+\)|both created \S+: the names decide)/);
    expect(loser?.verdict.evidence.join('\n')).toContain('ingress-nginx serves the oldest Ingress (creationTimestamp)');
    expect(routeOf(routes, 'ledger', 'books', 'nginx').verdict).toMatchObject({ status: 'ok', cause: 'ok' });
  });
});

describe('lab B: the same state gives the same status', () => {
  it.each(FLAVOURS)('one pod of three answers 500: degraded at the pod in 5 consecutive rounds (%s)', async (flavour) => {
    const seen: string[] = [];
    for (let round = 0; round < 5; round++) {
      const route = routeOf(await probe('--ingress', `telemetry/${ingressOf('ingest', flavour)}`), 'telemetry', 'ingest', flavour);
      seen.push(`${route.verdict.status} ${route.verdict.hop ?? '-'} ${route.verdict.cause}`);
      expect(route.verdict.summary).toContain('1 of 3 pods answer 500');
    }
    expect(seen).toEqual(Array(5).fill('degraded pod pod.app-error'));
  }, 90_000);
});
