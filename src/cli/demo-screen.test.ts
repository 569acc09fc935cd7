import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { routeFixture } from '../../test/fixtures.js';
import type { RouteRound, Verdict } from '../model.js';
import { changeLine, hintLines, reminderLine, shellQuote, stopLine, verdictKey } from './demo-screen.js';
import { demoConfig } from './demo.js';

const AT = Date.UTC(2026, 11, 6, 7, 41, 5);

function round(verdict: Partial<Verdict>): RouteRound {
  return {
    route: routeFixture(),
    startedAt: AT,
    durationMs: 12,
    hops: [],
    verdict: { status: 'ok', hop: null, cause: 'ok', summary: 'answers 200 through every hop', evidence: [], ...verdict },
  };
}

const FAILING = round({ status: 'failing', hop: 'pod', cause: 'pod.refused', summary: '2 of 2 pods refuse connections' });
const PLACES = { url: 'http://127.0.0.1:8080', configPath: '/tmp/hopwatch-lab-7-x/hopwatch.yaml', binDir: '/home/me/hop watch/bin' };

describe('demo terminal', () => {
  test('a change is one timestamped line naming the route, what it was and what it is', () => {
    const line = changeLine(AT, round({}), FAILING, false);
    expect(line).toMatch(/^07:41:05Z {2}shop\/web \S+ {2}ok \(ok\) -> failing at pod \(pod\.refused\): 2 of 2 pods refuse connections$/);
    expect(changeLine(AT, FAILING, round({}), false)).toMatch(/failing at pod \(pod\.refused\) -> ok \(ok\)$/);
    expect(changeLine(AT, undefined, FAILING, false)).toContain('new route: failing at pod');
    expect(changeLine(AT, undefined, FAILING, false)).not.toContain('\x1b');
  });

  test('the same verdict is the same key; another hop or cause is a change', () => {
    expect(verdictKey(FAILING)).toBe(verdictKey({ ...FAILING, startedAt: AT + 15_000 }));
    expect(verdictKey(FAILING)).not.toBe(verdictKey(round({ status: 'failing', hop: 'controller', cause: 'pod.refused' })));
  });

  test('the hints put bin/ on the PATH and point HOPWATCH_CONFIG at the lab, quoted for the shell', () => {
    const lines = hintLines(PLACES);
    expect(lines[0]).toContain('http://127.0.0.1:8080/');
    expect(lines).toContain(`  export PATH='/home/me/hop watch/bin':"$PATH" HOPWATCH_CONFIG=/tmp/hopwatch-lab-7-x/hopwatch.yaml`);
    for (const command of ['probe', 'verify', 'timeline', 'incidents']) expect(lines.some((l) => l.startsWith(`  hopwatch ${command}`))).toBe(true);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  test('the reminder and the stop line say where to look and why it stopped', () => {
    expect(reminderLine(AT, PLACES, [FAILING, round({})])).toBe('07:41:05Z  still running: 1 failing, 1 ok — dashboard http://127.0.0.1:8080/ — config /tmp/hopwatch-lab-7-x/hopwatch.yaml');
    expect(stopLine(AT + 125_000, AT, { kind: 'signal' }, '/tmp/lab')).toBe("07:43:10Z  hopwatch demo stopped (Ctrl-C) after 2m 05s; the lab's processes are stopped and /tmp/lab (config and store) is removed");
    expect(stopLine(AT + 60_000, AT, { kind: 'for', forText: '60s' }, '/tmp/lab')).toContain('stopped: --for 60s is over after 1m 00s');
  });

  test("the demo's config carries its store.path (timeline and incidents --config read the demo's history)", () => {
    const config = parse(demoConfig('cluster:\n  context: lab\nprobe:\n  timeoutMs: 5000\n', '/tmp/lab/hopwatch.db')) as Record<string, unknown>;
    expect(config).toEqual({ cluster: { context: 'lab' }, probe: { timeoutMs: 5000 }, store: { path: '/tmp/lab/hopwatch.db' } });
  });
});
