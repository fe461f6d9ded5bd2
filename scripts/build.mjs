// Bundles the `synod` command into packages/server/dist/synod.mjs (plain JavaScript with a source
// map), so members run without a TypeScript loader: that saves about 45 MB per process. Runs from
// `npm ci` (prepare) and before `npm start` and `npm test`; takes well under a second.
// bin/synod.mjs uses the bundle only while it is newer than every source it was built from.

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['packages/server/src/cli.ts'],
  outfile: 'packages/server/dist/synod.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Stack traces and CPU profiles need only the mappings; the sources are on disk beside the
  // bundle. Embedded in the map, node held them all in memory (about 4 MB per member).
  sourcesContent: false,
  // Drops comments too: esbuild keeps some, and one character beyond Latin-1 in them (→, —) makes V8
  // hold the whole bundle's source as UTF-16 (twice the bytes). Names stay, for stack traces and profiles.
  minifyWhitespace: true,
  // npm packages stay as they are installed; the simulator and the dashboard are loaded on demand.
  external: [
    'msgpackr',
    'prom-client',
    'pino',
    '@opentelemetry/api',
    'tsx',
    '@synod/sim',
    '@synod/dashboard',
  ],
  // Some npm packages that get bundled (none today) may call require().
  banner: {
    js: "import { createRequire as synodCreateRequire } from 'node:module'; const require = synodCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
