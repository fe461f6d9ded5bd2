// The dashboard's static files: `/` (index.html), `/replay` (replay.html, else index.html) and
// `/assets/*`, from one folder, with content types and without escaping it (no `..`, no encoded
// slashes, no symlink leading outside).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files larger than this are not served (the dashboard's are a few KiB). */
export const STATIC_FILE_BYTES_MAX = 8 * 1024 * 1024;

/** Path segments in `/assets/…` beyond this are refused. */
const ASSET_PATH_SEGMENTS_MAX = 16;

export type StaticLookup =
  | { readonly found: true; readonly path: string; readonly bytes: number; readonly contentType: string }
  | { readonly found: false; readonly status: 400 | 404; readonly message: string };

/**
 * Resolves a request path to a file inside `root`, or says why not.
 *
 * @example
 * await lookupStatic('/srv/public', '/assets/app.js'); // { found: true, path: '/srv/public/assets/app.js', … }
 * await lookupStatic('/srv/public', '/assets/%2e%2e/secret'); // { found: false, status: 400, … }
 */
export async function lookupStatic(root: string, pathname: string): Promise<StaticLookup> {
  const relative = relativePathOf(pathname);
  if (typeof relative !== 'object')
    return { found: false, status: relative, message: 'not a dashboard file' };
  const rootReal = await realpath(root).catch(() => undefined);
  if (rootReal === undefined)
    return { found: false, status: 404, message: 'the dashboard files are missing' };
  for (const candidate of relative) {
    const file = await regularFileWithin(rootReal, join(rootReal, ...candidate));
    if (file !== undefined) {
      const contentType = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
      return { found: true, path: file.path, bytes: file.bytes, contentType };
    }
  }
  return { found: false, status: 404, message: `no such dashboard file: ${pathname}` };
}

/** Candidate paths (segments under root) for a request path; a status when it cannot name a file. */
function relativePathOf(pathname: string): string[][] | 400 | 404 {
  if (pathname === '/' || pathname === '/index.html') return [['index.html']];
  if (pathname === '/replay' || pathname === '/replay/') return [['replay.html'], ['index.html']];
  if (!pathname.startsWith('/assets/')) return 404;
  const raw = pathname.slice('/assets/'.length).split('/');
  if (raw.length > ASSET_PATH_SEGMENTS_MAX) return 400;
  const segments: string[] = [];
  for (const part of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return 400;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return 400;
    segments.push(segment);
  }
  return [['assets', ...segments]];
}

async function regularFileWithin(
  rootReal: string,
  path: string,
): Promise<{ path: string; bytes: number } | undefined> {
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined || !real.startsWith(rootReal + sep)) return undefined;
  const info = await stat(real).catch(() => undefined);
  if (info === undefined || !info.isFile() || info.size > STATIC_FILE_BYTES_MAX) return undefined;
  return { path: real, bytes: info.size };
}

/** Sends a looked-up file (body omitted for HEAD). */
export function sendStatic(
  response: ServerResponse,
  file: Extract<StaticLookup, { found: true }>,
  headOnly: boolean,
): void {
  response.writeHead(200, {
    'content-type': file.contentType,
    'content-length': file.bytes,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (headOnly) {
    response.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/**
 * The `@synod/dashboard` package's `public/` folder, if that package is installed. Resolved at run
 * time, so the server does not depend on the dashboard to build or start.
 */
export async function resolveDashboardPublicDir(): Promise<string | undefined> {
  // Resolved as a file of the package (its exports name public/*), not by importing its module:
  // no TypeScript needs loading, which the bundled member runs without.
  const specifier = '@synod/dashboard/public/index.html';
  try {
    return dirname(fileURLToPath(import.meta.resolve(specifier)));
  } catch {
    return undefined;
  }
}
