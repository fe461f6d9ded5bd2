// `synod start`: run one member until SIGTERM/SIGINT, then shut down gracefully.
import { renameSync, writeFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import type { ServerConfig } from '../config/server-config.js';
import { createLogger } from './logger.js';
import { SynodServer } from './synod-server.js';

export async function runServer(config: ServerConfig): Promise<void> {
  const logger = createLogger(config.logLevel, { member: config.name });
  for (const notice of config.ignoredEtcdFlags) logger.warn({}, notice);
  // `%p` in the name becomes the pid, so that members started together write separate files.
  const profileFile = process.env.SYNOD_CPU_PROFILE?.replaceAll('%p', String(process.pid));
  const writeProfile = profileFile ? await startCpuProfile(profileFile) : undefined;
  let server: SynodServer;
  try {
    server = await SynodServer.start(config, logger);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      const address = (error as { address?: string; port?: number }).port;
      throw new Error(
        `${config.name}: port ${address ?? ''} is already in use (another synod or etcd?). Stop it, or choose other ports (synod dev --base-port 12379).`,
      );
    }
    throw error;
  }
  const clientUrls = config.listenClientUrls
    .map((url) => `${url.scheme}://${url.host}:${url.port}`)
    .join(',');
  // Tests and `synod dev` wait for this line, whatever the log level.
  process.stdout.write(`synod ${config.name}: serving client requests on ${clientUrls}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (writeProfile?.(false) ?? Promise.resolve())
      .catch((error: unknown) => logger.error({ err: error }, 'writing the CPU profile failed'))
      .then(() => server.stop())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (writeProfile) {
    process.on('SIGUSR2', () => {
      writeProfile(true).catch((error: unknown) =>
        logger.error({ err: error }, 'writing the CPU profile failed'),
      );
    });
  }
}

/**
 * Opt-in CPU profile (`SYNOD_CPU_PROFILE=<file>`, `%p` for the pid), taken in-process so that the file is complete
 * on disk before the process exits (node's --cpu-prof, written at exit, left truncated files).
 * SIGUSR2 writes the samples since the last write and starts afresh, so a benchmark can cut out
 * its load window; a graceful stop (SIGTERM/SIGINT) writes the rest before shutting down.
 * Positions are mapped back to the TypeScript sources tsx compiled, so file:line is right.
 */
async function startCpuProfile(file: string): Promise<(restart: boolean) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (restart) => {
    const { profile } = await session.post('Profiler.stop');
    mapProfileToSources(profile);
    // Written aside then renamed, so a reader polling for the file never sees half of it.
    writeFileSync(`${file}.partial`, JSON.stringify(profile));
    renameSync(`${file}.partial`, file);
    // Only now: the next profile should not show this one being mapped and written.
    if (restart) await session.post('Profiler.start');
  };
}

/** Sources a profile frame may map back to: TypeScript run through tsx, or the bundle. */
const MAPPED_URL = /\.([cm]?ts|mjs)$/;

function mapProfileToSources(profile: Profiler.Profile): void {
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (!MAPPED_URL.test(frame.url)) continue;
    const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (!entry || !('originalLine' in entry)) continue;
    // The bundle's frames name the TypeScript file they came from.
    if ('originalSource' in entry && typeof entry.originalSource === 'string')
      frame.url = entry.originalSource;
    frame.lineNumber = entry.originalLine;
    frame.columnNumber = entry.originalColumn;
    // Line ticks refer to the compiled code's lines, which no longer match.
    delete node.positionTicks;
  }
}
