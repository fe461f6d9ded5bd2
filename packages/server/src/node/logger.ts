// Structured JSON logs, one line per event, with the member's name on every line. Levels follow
// --log-level. (pino can replace this without changing call sites: same (object, message) shape.)
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown>,
  write = (line: string) => process.stdout.write(line),
): Logger {
  const emit = (at: LogLevel) => (object: object, message: string) => {
    if (RANK[at] < RANK[level]) return;
    const fields: Record<string, unknown> = {
      level: at,
      time: new Date().toISOString(),
      ...base,
      msg: message,
    };
    for (const [key, value] of Object.entries(object)) {
      fields[key] = value instanceof Error ? { message: value.message, stack: value.stack } : value;
    }
    write(
      `${JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`,
    );
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
