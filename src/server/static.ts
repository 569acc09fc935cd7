// Serves the dashboard's files from one directory: index.html at `/`, assets
// with their content types, no directory listing, nothing outside the
// directory (no `..`, no dot-files, no symlink leading out), and index.html for
// extension-less paths the dashboard may route on the client side. Files of the
// npm packages the dashboard loads (uPlot) are served from node_modules at a
// fixed /vendor/<package>/ prefix, so nothing is copied into the repository.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Content types by file extension; other files are served as application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A file to send: its real path, size and content type. */
interface Found {
  path: string;
  size: number;
  type: string;
}

/** Decoded path segments of a raw request path, or null when a segment is unsafe or undecodable. */
export function safeSegments(rawPath: string): string[] | null {
  const out: string[] = [];
  for (const raw of rawPath.split('/').slice(1)) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // ".." and "." climb or alias; dot-files (.env, .git) are never dashboard assets; separators and NUL would smuggle paths.
    if (seg.startsWith('.') || /[/\\\0]/.test(seg)) return null;
    out.push(seg);
  }
  return out;
}

/** A regular file at path inside root (after resolving symlinks; a directory gives its index.html when dirIndex), or null. */
async function fileInside(root: string, path: string, dirIndex = true): Promise<Found | null> {
  try {
    const real = await realpath(path);
    if (real !== root && !real.startsWith(root + sep)) return null;
    const info = await stat(real);
    // The directory's index.html gets the same check: it may be a symlink leading out too.
    if (info.isDirectory() && dirIndex) return await fileInside(root, join(real, 'index.html'), false);
    if (!info.isFile()) return null;
    return { path: real, size: info.size, type: CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}

/** The real path of a directory, null when it does not exist. */
async function realDir(dir: string): Promise<string | null> {
  try {
    return await realpath(dir);
  } catch {
    return null;
  }
}

/** Finds what a request path names under root: the file, a directory's index.html, or index.html for a one-segment extension-less path. */
export async function resolveStatic(root: string, rawPath: string): Promise<Found | null> {
  const segments = safeSegments(rawPath);
  if (segments === null) return null;
  const realRoot = await realDir(root);
  if (realRoot === null) return null;
  const found = await fileInside(realRoot, join(realRoot, ...segments));
  if (found !== null) return found;
  const last = segments[segments.length - 1] ?? '';
  // index.html for a page-like path one level deep only: deeper, its relative asset URLs would resolve under that path.
  return last.includes('.') || segments.length > 1 ? null : fileInside(realRoot, join(realRoot, 'index.html'));
}

/** URL prefix of the vendored packages' files. */
export const VENDOR_PREFIX = '/vendor/';

/** npm packages the dashboard loads, by name: the directory inside the package that is served (nothing else of it is). */
export const VENDOR_DIRS: Readonly<Record<string, string>> = { uplot: 'dist' };

/** The served directory of a vendored package, resolved the way Node resolves the package from this module; null when not installed. */
export function vendorDir(name: string, fromUrl: string = import.meta.url): string | null {
  // Own keys only: "constructor" or "__proto__" in a path must not reach Object.prototype.
  if (!Object.hasOwn(VENDOR_DIRS, name)) return null;
  const sub = VENDOR_DIRS[name]!;
  try {
    return join(dirname(createRequire(fromUrl).resolve(`${name}/package.json`)), sub);
  } catch {
    return null;
  }
}

/** The vendored file a /vendor/<package>/<file> path names (no index.html fallback, same protections), or null. */
export async function resolveVendor(rawPath: string, fromUrl: string = import.meta.url): Promise<Found | null> {
  if (!rawPath.startsWith(VENDOR_PREFIX)) return null;
  const segments = safeSegments(rawPath);
  // ['vendor', package, file...]: a file of the package is needed, not its directory.
  if (segments === null || segments.length < 3) return null;
  const dir = vendorDir(segments[1]!, fromUrl);
  const realRoot = dir === null ? null : await realDir(dir);
  if (realRoot === null) return null;
  return fileInside(realRoot, join(realRoot, ...segments.slice(2)), false);
}

/** Sends a file found by resolveStatic (headers only for HEAD). */
export async function sendStatic(found: Found, method: string, res: ServerResponse): Promise<void> {
  res.writeHead(200, {
    'content-type': found.type,
    'content-length': String(found.size),
    // Revalidate each time: the dashboard is small and a new hopwatch version must not be hidden by a cache.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(createReadStream(found.path), res);
}
