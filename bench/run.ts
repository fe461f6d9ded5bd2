// Benchmark entry: `npm run bench -- <suite> [--flags]` runs every bench/<suite>/*.bench.ts in turn,
// passing the flags on (e.g. `npm run bench -- kv --quick --only=put`). Benchmarks are never part
// of `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const benchDir = new URL('.', import.meta.url).pathname;
const suites = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const args = process.argv.slice(2);
// A suite name is a bare word that names a folder; everything else is for the benches.
const requested = args.filter((arg) => !arg.startsWith('-') && suites.includes(arg));
const unknown = args.filter(
  (arg, i) => !arg.startsWith('-') && !suites.includes(arg) && !args[i - 1]?.startsWith('--'),
);
if (unknown.length > 0) {
  console.error(`unknown bench suite "${unknown[0]}"; available: ${suites.join(', ')}`);
  process.exit(2);
}
const passed = args.filter((arg) => !requested.includes(arg));
const selected = requested.length > 0 ? requested : suites;

for (const suite of selected) {
  const dir = join(benchDir, suite);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.bench.ts'))
    .sort();
  for (const file of files) {
    console.error(`# ${suite}/${file}`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--expose-gc', join(dir, file), ...passed],
      {
        stdio: 'inherit',
      },
    );
    if (result.status !== 0) {
      console.error(`${suite}/${file} failed (exit ${result.status ?? result.signal})`);
      process.exit(result.status ?? 1);
    }
  }
}
