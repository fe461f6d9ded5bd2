#!/usr/bin/env node
// Runs the whole suite: type check, lint, then every *.test.ts under packages/ and bench/
// through node's own test runner (its TAP/spec output is what CI reads).
// Usage: npm test [-- <path filter>]   e.g. npm test -- raft
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ?? '';

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

function run(label, cmd, args) {
  console.log(`\n> ${label}`);
  const started = performance.now();
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n${label} failed after ${seconds}s (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
  console.log(`${label}: ok in ${seconds}s`);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
if (!filter) {
  run('type check (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  run('lint (biome check)', bin('biome'), ['check', '.']);
}
// Real-process tests run the `synod` bundle, as users do: build it from the current sources.
run('bundle (scripts/build.mjs)', process.execPath, [join(root, 'scripts', 'build.mjs')]);
const tests = findTests(join(root, 'packages'), [])
  .concat(findTests(join(root, 'bench'), []))
  .filter((file) => file.includes(filter))
  .sort();
if (tests.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
run(`${tests.length} test files (node --test)`, process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-reporter=spec',
  ...tests,
]);
