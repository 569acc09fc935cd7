// Serves the dashboard's files from one directory: index.html at `/`, assets
// with their content types, no directory listing, nothing outside the
// directory (no `..`, no dot-files, no symlink leading out), and index.html for
// extension-less paths the dashboard may route on the client side.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
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

/** A regular file at path inside root (after resolving symlinks), or null. */
async function fileInside(root: string, path: string): Promise<Found | null> {
  try {
    const real = await realpath(path);
    if (real !== root && !real.startsWith(root + sep)) return null;
    let info = await stat(real);
    let file = real;
    if (info.isDirectory()) {
      file = join(real, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return null;
    return { path: file, size: info.size, type: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}

/** Finds what a request path names under root: the file, a directory's index.html, or index.html for an extension-less path. */
export async function resolveStatic(root: string, rawPath: string): Promise<Found | null> {
  const segments = safeSegments(rawPath);
  if (segments === null) return null;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return null;
  }
  const found = await fileInside(realRoot, join(realRoot, ...segments));
  if (found !== null) return found;
  const last = segments[segments.length - 1] ?? '';
  return last.includes('.') ? null : fileInside(realRoot, join(realRoot, 'index.html'));
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
