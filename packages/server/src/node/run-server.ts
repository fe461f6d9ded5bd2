// `synod start`: run one member until SIGTERM/SIGINT, then shut down gracefully.
import type { ServerConfig } from '../config/server-config.js';
import { createLogger } from './logger.js';
import { SynodServer } from './synod-server.js';

export async function runServer(config: ServerConfig): Promise<void> {
  const logger = createLogger(config.logLevel, { member: config.name });
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
    server
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
