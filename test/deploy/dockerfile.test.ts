// The Dockerfile, read without Docker: its COPY sources exist and pass .dockerignore; its port,
// entrypoint, user, volume and environment agree with the in-cluster defaults, the Kubernetes
// manifests and docker-compose.yml; scripts/image-recipe.sh runs the same build commands; the
// HEALTHCHECK script tells a healthy hopwatch from an unhealthy one.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CLUSTER_DB, IN_CLUSTER_LISTEN } from '../../src/config/environment.js';
import { ROOT } from '../e2e/cli.js';
import { at, compose, dockerfile, envOf, lastOf, loadManifests, only, type Stage } from './manifests.js';

const stages = dockerfile();
const stage = (name: string): Stage => {
  const found = stages.get(name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
};
const app = stage('app');
const manifests = loadManifests();
const runs = (s: Stage) => s.own.filter((i) => i.op === 'RUN').map((i) => i.args.replace(/\s+/g, ' '));
const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

/** The COPY sources of every stage that come from the build context (not --from=stage). */
function contextSources(): string[] {
  return [...stages.values()].flatMap((s) => s.own)
    .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => i.args.split(/\s+/).filter((t) => !t.startsWith('--')).slice(0, -1));
}

describe('the Dockerfile', () => {
  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    // An allow-list: everything out, then each shipped path back in.
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const sources = contextSources();
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'migrations', 'bin', 'dashboard']));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} does not exist`).toBe(true);
      expect(allowed.some((a) => source === a || source.startsWith(`${a}/`)), `${source} is not allowed by .dockerignore`).toBe(true);
    }
  });

  it('copies from stages that exist, and the default target (the last stage) is the runtime built on app', () => {
    for (const copy of [...stages.values()].flatMap((s) => s.own).filter((i) => i.op === 'COPY' && i.args.includes('--from='))) {
      expect(stages.has(/--from=(\S+)/.exec(copy.args)?.[1] ?? ''), copy.args).toBe(true);
    }
    const names = [...stages.keys()];
    expect(names.at(-1)).toBe('runtime');
    expect(stage('runtime')).toMatchObject({ from: 'app', own: [] });
    expect(stage('demo').from).toBe('app');
  });

  it('builds on Node 20 LTS slim and keeps the compiler out of the runtime', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(/^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1]).toMatch(/^node:20(\.\d+)*-bookworm-slim$/);
    for (const name of ['build', 'deps', 'app']) expect(stage(name).from).toBe('${NODE_IMAGE}');
    expect(runs(stage('deps')).join('\n')).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/);
    expect(runs(app).join('\n')).not.toMatch(/apt-get|npm (ci|install)/);
    expect(app.own.filter((i) => i.op === 'COPY' && i.args.includes('--from=')).map((i) => i.args)).toEqual(['--from=deps /src/node_modules ./node_modules', '--from=build /src/dist ./dist']);
  });

  it('runs `hopwatch run` by default as a numeric non-root user, with /data as a volume', () => {
    expect(JSON.parse(lastOf(app, 'ENTRYPOINT') ?? 'null')).toEqual(['hopwatch']);
    expect(JSON.parse(lastOf(app, 'CMD') ?? 'null')).toEqual(['run']);
    expect(runs(app).join('\n')).toContain('ln -s /app/bin/hopwatch.js /usr/local/bin/hopwatch');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toMatchObject({ hopwatch: 'bin/hopwatch.js', 'kubectl-hopwatch': 'bin/kubectl-hopwatch' });
    expect(lastOf(app, 'USER')).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(lastOf(app, 'VOLUME')).toBe('["/data"]');
    expect(runs(app).join('\n')).toContain(`chown ${lastOf(app, 'USER')} /data`);
  });

  it('its port and paths are the in-cluster defaults and the Deployment\'s', () => {
    const env = envOf(app);
    expect(env.get('HOPWATCH_LISTEN')).toBe(IN_CLUSTER_LISTEN);
    expect(env.get('HOPWATCH_DB')).toBe(IN_CLUSTER_DB);
    const exposed = Number(lastOf(app, 'EXPOSE'));
    expect(exposed).toBe(portOf(IN_CLUSTER_LISTEN));
    const container = at<Record<string, unknown>[]>(only(manifests, 'Deployment'), 'spec.template.spec.containers')[0];
    expect(at<{ containerPort: number }[]>(container, 'ports').map((p) => p.containerPort)).toEqual([exposed]);
  });

  it('checks health with the shipped script on /healthz, the path the liveness probe uses', () => {
    expect(lastOf(app, 'HEALTHCHECK')).toMatch(/CMD \["node", "\/app\/healthcheck\.mjs"\]$/);
    expect(app.own.some((i) => i.op === 'COPY' && i.args === 'deploy/docker/healthcheck.mjs ./healthcheck.mjs')).toBe(true);
    expect(lastOf(app, 'WORKDIR')).toBe('/app');
    expect(readFileSync(join(ROOT, 'deploy/docker/healthcheck.mjs'), 'utf8')).toContain('/healthz');
  });

  it('builds with the commands scripts/image-recipe.sh reproduces', () => {
    const script = readFileSync(join(ROOT, 'scripts/image-recipe.sh'), 'utf8');
    expect(runs(stage('build'))).toEqual(['npm ci --ignore-scripts --no-audit --no-fund', 'npm run build']);
    expect(script).toContain('npm run --silent build');
    expect(script).toContain('# for: npm ci --ignore-scripts');
    const deps = runs(stage('deps')).at(-1) ?? '';
    expect(deps).toMatch(/^npm ci --omit=dev --no-audit --no-fund && rm -rf /);
    expect(script).toContain('# for: npm ci --omit=dev');
    expect(script).toContain('npm prune --omit=dev');
    // The same better-sqlite3 clean-up, path for path.
    const cleaned = (text: string) => [...text.matchAll(/node_modules\/better-sqlite3\/[\w./]+/g)].map((m) => m[0]).sort();
    expect(cleaned(script)).toEqual(cleaned(deps));
    expect(envOf(stage('deps'))).toEqual(new Map([['npm_config_build_from_source', 'true'], ['npm_config_nodedir', '/usr/local']]));
    // The runtime layout: every file the app stage copies from the context, the script copies into /app.
    const appSources = app.own.filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of appSources) expect(script, source).toMatch(new RegExp(`cp (-a )?${source.replace(/[.]/g, '\\.')} "\\$APP/`));
  });
});

describe('docker-compose.yml', () => {
  const file = compose() as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
  const exposed = Number(lastOf(app, 'EXPOSE'));

  it('runs hopwatch from this Dockerfile against a mounted kubeconfig, with a named /data volume and the dashboard port', () => {
    const hopwatch = file.services['hopwatch'] ?? {};
    expect(hopwatch['build']).toBe('.');
    expect(hopwatch['command']).toEqual(['run']);
    expect(hopwatch['ports']).toEqual([`127.0.0.1:8080:${exposed}`]);
    const volumes = hopwatch['volumes'] as string[];
    expect(volumes).toContain('hopwatch-data:/data');
    expect(Object.keys(file.volumes)).toEqual(['hopwatch-data']);
    const kubeconfig = at<string>(hopwatch, 'environment.KUBECONFIG');
    expect(volumes.some((v) => v.endsWith(`:${kubeconfig}:ro`))).toBe(true);
    const image = at<string>(at<Record<string, unknown>[]>(only(manifests, 'Deployment'), 'spec.template.spec.containers')[0], 'image');
    expect(hopwatch['image']).toBe(image);
    expect(hopwatch).toMatchObject({ read_only: true, cap_drop: ['ALL'], tmpfs: ['/tmp'] });
  });

  it('has a demo profile running `hopwatch demo` from the demo stage on the same port', () => {
    const demo = file.services['demo'] ?? {};
    expect(demo['profiles']).toEqual(['demo']);
    expect(demo['build']).toEqual({ context: '.', target: 'demo' });
    expect(stages.has('demo')).toBe(true);
    expect(demo['command']).toEqual(JSON.parse(lastOf(stage('demo'), 'CMD') ?? 'null'));
    expect(demo['command']).toEqual(['demo', '--listen', `0.0.0.0:${exposed}`]);
    expect(demo['ports']).toEqual([`127.0.0.1:8080:${exposed}`]);
  });
});

describe('deploy/docker/healthcheck.mjs', () => {
  let server: Server;
  let status = 200;
  let address: string;

  beforeAll(async () => {
    server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.211.0.30', resolve));
    address = `127.211.0.30:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const check = async (listen: string): Promise<number> => {
    try {
      await promisify(execFile)(process.execPath, [join(ROOT, 'deploy/docker/healthcheck.mjs')], { env: { HOPWATCH_LISTEN: listen }, timeout: 15_000 });
      return 0;
    } catch (error) {
      return Number((error as { code?: unknown }).code);
    }
  };

  it('exits 0 when /healthz answers 200, 1 on 503 and when nothing listens', async () => {
    status = 200;
    expect(await check(address)).toBe(0);
    status = 503;
    expect(await check(address)).toBe(1);
    expect(await check('127.211.0.31:1')).toBe(1);
  });
});
