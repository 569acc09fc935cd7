import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveStatic } from './static.js';

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-static-'));
const web = join(dir, 'web');
mkdirSync(join(web, 'sub'), { recursive: true });
mkdirSync(join(web, 'trap'), { recursive: true });
writeFileSync(join(web, 'index.html'), '<p>root</p>');
writeFileSync(join(web, 'sub', 'index.html'), '<p>sub</p>');
writeFileSync(join(dir, 'secret.html'), 'not for the dashboard');
// A directory whose index.html is a symlink leading out of the served directory.
symlinkSync(join(dir, 'secret.html'), join(web, 'trap', 'index.html'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveStatic', () => {
  it("serves a directory's own index.html", async () => {
    const found = await resolveStatic(web, '/sub/');
    expect(found?.path).toBe(join(web, 'sub', 'index.html'));
  });

  it("refuses a directory's index.html that is a symlink leading out of the directory", async () => {
    // A one-segment extension-less path falls back to the dashboard's own index.html, never the target.
    expect(await resolveStatic(web, '/trap/')).toBeNull();
    expect((await resolveStatic(web, '/trap'))?.path).toBe(join(web, 'index.html'));
    expect(await resolveStatic(web, '/trap/index.html')).toBeNull();
  });

  it('falls back to index.html one level deep only, where its relative asset URLs still resolve', async () => {
    expect((await resolveStatic(web, '/routes'))?.path).toBe(join(web, 'index.html'));
    expect(await resolveStatic(web, '/some/deep/path')).toBeNull();
  });
});
