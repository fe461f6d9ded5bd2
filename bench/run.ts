// Benchmark entry: `npm run bench -- <suite>` runs every bench/<suite>/*.bench.ts in turn.
// Benchmarks print one JSON line per comparison; they are never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const benchDir = new URL('.', import.meta.url).pathname;
const suites = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const selected = requested.length > 0 ? requested : suites;

for (const suite of selected) {
  const dir = join(benchDir, suite);
  if (!existsSync(dir)) {
    console.error(`unknown bench suite "${suite}"; available: ${suites.join(', ')}`);
    process.exit(2);
  }
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.bench.ts'))
    .sort();
  for (const file of files) {
    console.error(`# ${suite}/${file}`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file)], {
      stdio: 'inherit',
    });
    if (result.status !== 0) {
      console.error(`${suite}/${file} failed (exit ${result.status ?? result.signal})`);
      process.exit(result.status ?? 1);
    }
  }
}
