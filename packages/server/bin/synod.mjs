#!/usr/bin/env node
// The `synod` command. It runs the bundle `npm ci` builds (scripts/build.mjs) while that is newer
// than every source it was built from; otherwise the TypeScript sources, through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
const bundle = fileURLToPath(new URL('../dist/synod.mjs', import.meta.url));
/** The packages bundled into dist/synod.mjs (the simulator and dashboard are loaded separately). */
const BUNDLED_PACKAGES = ['core', 'raft', 'state', 'server'];

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  return BUNDLED_PACKAGES.every((name) => newestSourceMs(join(packagesDir, name, 'src')) <= built);
}

if (process.env.SYNOD_FROM_SOURCES !== '1' && bundleIsFresh()) {
  process.env.SYNOD_BUNDLED = '1';
  process.setSourceMapsEnabled(true);
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
