// Structured JSON logs on pino, one line per event: level, ISO time, the member's name (`node`),
// the Raft group and term where the server bound them, the trace and span ids of the request
// being served when a tracing SDK is active, then the event's own fields. Levels follow
// --log-level / SYNOD_LOG_LEVEL. Lines are written synchronously: a crash never loses the line
// that explains it (measured: see logger.bench.ts; logs are events, not a per-request stream).
import { context as contextApi, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the server's components log through (a pino logger fits it as is). */
export interface Logger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** Fields computed for every line at the time it is written (e.g. the current Raft term). */
export type DynamicLogFields = () => Readonly<Record<string, unknown>>;

/** The logger `createLogger` returns: a Logger plus children, dynamic fields and flushing. */
export interface SynodLogger extends Logger {
  readonly level: string;
  /** A logger that adds `bindings` to every line (e.g. `{ group: '0' }`, `{ peer }`). */
  child(bindings: Readonly<Record<string, unknown>>): SynodLogger;
  /** Adds the fields `source` returns to every line from now on (replaces an earlier source). */
  bindContext(source: DynamicLogFields): void;
  /** Writes out anything buffered (nothing is, with the synchronous destination). */
  flush(): void;
}

/** Nested objects deeper than this are logged as they are (bigints left to pino). */
const FIELD_NORMALISE_DEPTH_MAX = 4;

/**
 * A JSON-lines logger. `base` fields go on every line; a `member` field is written as `node`
 * (older callers pass `{ member: name }`). `write` replaces stdout (tests).
 *
 * @example
 * const logger = createLogger('info', { node: 'n1' });
 * logger.bindContext(() => ({ group: '0', term: raft.term }));
 * logger.warn({ peer: 'b2…' }, 'peer connection lost');
 * // {"level":"warn","time":"…","node":"n1","group":"0","term":3,"peer":"b2…","msg":"peer connection lost"}
 */
export function createLogger(
  level: LogLevel,
  base: Readonly<Record<string, unknown>>,
  write?: (line: string) => void,
): SynodLogger {
  const { member, ...rest } = base;
  const fields = member !== undefined && rest.node === undefined ? { node: member, ...rest } : { ...base };
  const holder: { source: DynamicLogFields | undefined } = { source: undefined };
  const destination: DestinationStream =
    write === undefined ? pino.destination({ dest: 1, sync: true }) : { write };
  const logger = pino(
    {
      level,
      base: fields,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => normaliseFields(object, 0) as Record<string, unknown>,
      },
      serializers: { err: pino.stdSerializers.err },
      mixin: () => dynamicFields(holder.source),
    },
    destination,
  );
  return wrap(logger, holder);
}

function wrap(logger: PinoLogger, holder: { source: DynamicLogFields | undefined }): SynodLogger {
  return {
    get level() {
      return logger.level;
    },
    debug: (object, message) => logger.debug(object, message),
    info: (object, message) => logger.info(object, message),
    warn: (object, message) => logger.warn(object, message),
    error: (object, message) => logger.error(object, message),
    child: (bindings) => wrap(logger.child(bindings), holder),
    bindContext: (source) => {
      holder.source = source;
    },
    flush: () => logger.flush(),
  };
}

/** The bound context's fields plus the active span's ids (the request id, when tracing is on). */
function dynamicFields(source: DynamicLogFields | undefined): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  if (source !== undefined) {
    try {
      fields = { ...source() };
    } catch {
      // A context source that fails (e.g. during shutdown) must not cost the log line.
    }
  }
  const spanContext = trace.getSpan(contextApi.active())?.spanContext();
  if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
    fields.traceId = spanContext.traceId;
    fields.spanId = spanContext.spanId;
  }
  return fields;
}

/** 64-bit ids are bigints: log them as decimal strings (JSON numbers would lose digits); Errors with their stack. */
function normaliseFields(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return pino.stdSerializers.err(value);
  if (depth >= FIELD_NORMALISE_DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => normaliseFields(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = normaliseFields(field, depth + 1);
  return copy;
}
