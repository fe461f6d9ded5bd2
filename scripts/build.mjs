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
