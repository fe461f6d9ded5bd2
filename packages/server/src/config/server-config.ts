// The server's configuration, read the way etcd reads its own: command-line flags, then
// SYNOD_<FLAG> environment variables, then an optional JSON config file, then defaults.
// Flag names and meanings follow etcd's where they mean the same thing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AutoCompactionPolicy, parseAutoCompaction } from '../etcd-api/auto-compactor.js';

export interface PeerUrl {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string | undefined;
  readonly clientCertAuth: boolean;
}

export interface ServerConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenPeerUrls: readonly PeerUrl[];
  readonly listenClientUrls: readonly PeerUrl[];
  readonly advertiseClientUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterToken: string;
  readonly initialClusterState: 'new' | 'existing';
  /** Raft heartbeat interval = one tick. */
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  /** The leader's automatic compaction; undefined when off (retention 0, etcd's default). */
  readonly autoCompaction: AutoCompactionPolicy | undefined;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  readonly quotaBackendBytes: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly metrics: 'basic' | 'off';
  readonly traceRequests: 'off' | 'all';
  readonly clientTls: TlsFiles | undefined;
  readonly peerTls: TlsFiles | undefined;
  /** The admin HTTP server (metrics, health, dashboard): by default the first client URL's port + 2. Port 0 picks a free one. */
  readonly listenAdminUrl: PeerUrl;
  /** Set by `synod dev` (SYNOD_DEV_CONTROL_URL): its control server; turns on the admin server's fault controls. */
  readonly devControlUrl: string | undefined;
  /** etcd flags given that mean nothing here, each with the reason (logged at startup). */
  readonly ignoredEtcdFlags: readonly string[];
}

/** The admin server listens on the client port plus this, as `synod dev` and the dashboard expect. */
export const ADMIN_PORT_OFFSET = 2;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface FlagSpec {
  readonly type: 'string' | 'number' | 'boolean';
  readonly help: string;
  readonly defaultValue?: string;
}

/**
 * etcd flags that mean nothing here, accepted so that an etcd command line or unit file runs as it
 * is: each is taken with its value and reported once at startup with the reason. Flags whose loss
 * would be unsafe or surprising (auto TLS, force-new-cluster, discovery) are not here: they stay
 * errors.
 */
export const ETCD_FLAGS_WITHOUT_EFFECT: Readonly<
  Record<string, { readonly takesValue: boolean; readonly why: string }>
> = {
  logger: { takesValue: true, why: 'Synod always logs JSON (pino)' },
  'log-outputs': { takesValue: true, why: 'Synod logs to its standard streams' },
  'enable-v2': { takesValue: false, why: 'the v2 API is not served' },
  'enable-pprof': { takesValue: false, why: 'use SYNOD_CPU_PROFILE=<file> or node --inspect for profiles' },
  'enable-grpc-gateway': { takesValue: false, why: 'the JSON gateway is always served on the client port' },
  'strict-reconfig-check': { takesValue: false, why: 'membership changes are always checked' },
  'max-snapshots': { takesValue: true, why: 'Synod keeps the 2 newest snapshots' },
  'max-wals': { takesValue: true, why: 'WAL segments are deleted once a snapshot covers them' },
  'wal-dir': { takesValue: true, why: 'the WAL lives in <data-dir>/wal' },
  'grpc-keepalive-min-time': { takesValue: true, why: "Node's HTTP/2 keep-alive defaults apply" },
  'grpc-keepalive-interval': { takesValue: true, why: "Node's HTTP/2 keep-alive defaults apply" },
  'grpc-keepalive-timeout': { takesValue: true, why: "Node's HTTP/2 keep-alive defaults apply" },
  'unsafe-no-fsync': { takesValue: false, why: 'Synod always syncs its WAL before acknowledging' },
  'experimental-initial-corrupt-check': {
    takesValue: false,
    why: 'snapshots and WAL records carry checksums that are checked at every start',
  },
};

/** Every flag `synod start` understands; `synod --help` prints this table. */
export const SERVER_FLAGS: Readonly<Record<string, FlagSpec>> = {
  name: { type: 'string', help: 'Human-readable name for this member.', defaultValue: 'default' },
  'data-dir': { type: 'string', help: 'Path to the data directory (default: <name>.synod).' },
  'listen-peer-urls': {
    type: 'string',
    help: 'URLs to listen on for peer traffic.',
    defaultValue: 'http://127.0.0.1:2380',
  },
  'listen-peer': { type: 'string', help: 'Shorthand: HOST:PORT to listen on for peers.' },
  'listen-client-urls': {
    type: 'string',
    help: 'URLs to listen on for client traffic.',
    defaultValue: 'http://127.0.0.1:2379',
  },
  'listen-client': { type: 'string', help: 'Shorthand: HOST:PORT to listen on for clients.' },
  'advertise-client-urls': {
    type: 'string',
    help: 'Client URLs advertised to the cluster (default: the listen URLs).',
  },
  'initial-advertise-peer-urls': {
    type: 'string',
    help: 'Peer URLs advertised to the cluster (default: the listen URLs).',
  },
  'initial-cluster': {
    type: 'string',
    help: 'Initial cluster: name1=http://host:port,name2=... (first boot only).',
  },
  'initial-cluster-token': {
    type: 'string',
    help: 'Initial cluster token (distinguishes clusters).',
    defaultValue: 'synod-cluster',
  },
  'initial-cluster-state': { type: 'string', help: "'new' or 'existing'.", defaultValue: 'new' },
  'heartbeat-interval': { type: 'number', help: 'Time (ms) of a heartbeat interval.', defaultValue: '100' },
  'election-timeout': {
    type: 'number',
    help: 'Time (ms) for an election to time out.',
    defaultValue: '1000',
  },
  'snapshot-count': {
    type: 'number',
    // etcd 3.4's default: our snapshot re-encodes the whole in-memory state, so it is taken less often
    // than etcd 3.6's 10,000 (a restart replays at most this many entries from the WAL).
    help: 'Committed entries between snapshots.',
    defaultValue: '100000',
  },
  'auto-compaction-mode': {
    type: 'string',
    help: "How --auto-compaction-retention counts: 'periodic' (a duration) or 'revision' (revisions).",
    defaultValue: 'periodic',
  },
  'auto-compaction-retention': {
    type: 'string',
    help: "History the leader keeps, compacting the rest: periodic '1h', '30m', '90s' (a bare number is hours), revision '1000'; '0' is off.",
    defaultValue: '0',
  },
  'max-request-bytes': {
    type: 'number',
    help: 'Maximum client request size in bytes.',
    defaultValue: '1572864',
  },
  'max-txn-ops': { type: 'number', help: 'Maximum operations per transaction.', defaultValue: '128' },
  'quota-backend-bytes': {
    type: 'number',
    help: 'Raise an alarm when the store exceeds this size.',
    defaultValue: '2147483648',
  },
  'log-level': { type: 'string', help: 'debug, info, warn or error.', defaultValue: 'info' },
  metrics: {
    type: 'string',
    help: "'basic' (or etcd's 'extensive') counts every request for /metrics; 'off' leaves the request path uncounted (Raft, WAL and store gauges stay).",
    defaultValue: 'basic',
  },
  'trace-requests': {
    type: 'string',
    help: "'off' (default): spans only if an OpenTelemetry SDK is registered (e.g. with node --import); 'all': trace every request, with the built-in recorder when no SDK is registered (it keeps the latest 1,000 spans in memory).",
    defaultValue: 'off',
  },
  'cert-file': { type: 'string', help: 'Path to the client server TLS certificate.' },
  'key-file': { type: 'string', help: 'Path to the client server TLS key.' },
  'trusted-ca-file': { type: 'string', help: 'Path to the client server TLS trusted CA.' },
  'client-cert-auth': { type: 'boolean', help: 'Require client certificates signed by the trusted CA.' },
  'peer-cert-file': { type: 'string', help: 'Path to the peer TLS certificate.' },
  'peer-key-file': { type: 'string', help: 'Path to the peer TLS key.' },
  'peer-trusted-ca-file': { type: 'string', help: 'Path to the peer TLS trusted CA.' },
  'peer-client-cert-auth': { type: 'boolean', help: 'Require peer certificates signed by the trusted CA.' },
  'listen-admin-urls': {
    type: 'string',
    help: 'URL for the admin HTTP server: /metrics, /health, /api, dashboard (default: client port + 2).',
  },
  'dev-control-url': {
    type: 'string',
    help: 'Set by `synod dev`: its control server (turns on /api/dev/*).',
  },
  'listen-metrics-urls': {
    type: 'string',
    help: "etcd's metrics URLs: the first http:// one is where the admin server (/metrics, /health) listens when --listen-admin-urls is not given.",
  },
  'config-file': { type: 'string', help: 'Path to a JSON file with any of these flags as keys.' },
};

type RawValues = Map<string, string | boolean>;

/** Resolves flags > SYNOD_* environment > config file > defaults, and validates the result. */
export function loadServerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  const ignoredEtcdFlags: string[] = [];
  const fromArgs = parseFlags(argv, ignoredEtcdFlags);
  const fromEnv = readEnvironment(env);
  const configFile = (fromArgs.get('config-file') ?? fromEnv.get('config-file')) as string | undefined;
  const fromFile = configFile ? readConfigFile(configFile) : new Map<string, string | boolean>();
  const value = (flag: string): string | boolean | undefined =>
    fromArgs.get(flag) ?? fromEnv.get(flag) ?? fromFile.get(flag) ?? SERVER_FLAGS[flag]?.defaultValue;
  return { ...buildConfig(value, fromArgs, fromEnv, fromFile), ignoredEtcdFlags };
}

function parseFlags(argv: readonly string[], ignored: string[]): RawValues {
  const values: RawValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new ConfigError(`unexpected argument "${arg}"; flags look like --name value`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const withoutEffect = SERVER_FLAGS[flag] === undefined ? ETCD_FLAGS_WITHOUT_EFFECT[flag] : undefined;
    if (withoutEffect !== undefined) {
      // A boolean etcd flag may still be given a separate true/false value.
      if (inline === undefined && (withoutEffect.takesValue || /^(true|false)$/.test(argv[i + 1] ?? ''))) i++;
      ignored.push(`--${flag} has no effect in Synod: ${withoutEffect.why}`);
      continue;
    }
    const spec = SERVER_FLAGS[flag];
    if (!spec) throw new ConfigError(`unknown flag --${flag}; run 'synod --help' for the list`);
    if (spec.type === 'boolean') {
      values.set(flag, inline === undefined ? true : inline === 'true');
      continue;
    }
    const next = inline ?? argv[++i];
    if (next === undefined) throw new ConfigError(`flag --${flag} needs a value`);
    values.set(flag, next);
  }
  return values;
}

function readEnvironment(env: NodeJS.ProcessEnv): RawValues {
  const values: RawValues = new Map();
  for (const [flag, spec] of Object.entries(SERVER_FLAGS)) {
    const raw = env[`SYNOD_${flag.toUpperCase().replaceAll('-', '_')}`];
    if (raw === undefined) continue;
    values.set(flag, spec.type === 'boolean' ? raw === 'true' || raw === '1' : raw);
  }
  return values;
}

function readConfigFile(path: string): RawValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  const values: RawValues = new Map();
  for (const [key, raw] of Object.entries(parsed)) {
    if (!SERVER_FLAGS[key]) throw new ConfigError(`config file ${path}: unknown key "${key}"`);
    values.set(key, typeof raw === 'boolean' ? raw : String(raw));
  }
  return values;
}

function buildConfig(
  value: (flag: string) => string | boolean | undefined,
  ...sources: RawValues[]
): ServerConfig {
  const given = (flag: string) => sources.some((source) => source.has(flag));
  const name = String(value('name'));
  const listenPeer = given('listen-peer')
    ? `http://${value('listen-peer')}`
    : String(value('listen-peer-urls'));
  const listenClient = given('listen-client')
    ? `http://${value('listen-client')}`
    : String(value('listen-client-urls'));
  const listenPeerUrls = parseUrls(listenPeer, 'listen-peer-urls');
  const listenClientUrls = parseUrls(listenClient, 'listen-client-urls');
  const advertisePeer = String(value('initial-advertise-peer-urls') ?? listenPeer).split(',');
  const advertiseClient = String(value('advertise-client-urls') ?? listenClient).split(',');
  const initialCluster = parseInitialCluster(
    String(value('initial-cluster') ?? `${name}=${advertisePeer.join(',')}`),
  );
  if (!initialCluster.some((member) => member.name === name)) {
    throw new ConfigError(`--initial-cluster does not list this member "${name}"; add ${name}=<peer url>`);
  }
  const state = String(value('initial-cluster-state'));
  if (state !== 'new' && state !== 'existing')
    throw new ConfigError(`--initial-cluster-state must be new or existing`);
  const logLevel = String(value('log-level'));
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    throw new ConfigError('--log-level must be debug, info, warn or error');
  const heartbeatIntervalMs = positiveNumber(value, 'heartbeat-interval');
  const electionTimeoutMs = positiveNumber(value, 'election-timeout');
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    throw new ConfigError('--election-timeout should be at least 5 times --heartbeat-interval');
  }
  const clientTls = tlsFiles(value, '', 'client-cert-auth');
  const peerTls = tlsFiles(value, 'peer-', 'peer-client-cert-auth');
  checkSchemes(listenClientUrls, clientTls, 'listen-client-urls', '');
  checkSchemes(listenPeerUrls, peerTls, 'listen-peer-urls', 'peer-');
  return {
    name,
    dataDir: String(value('data-dir') ?? `${name}.synod`),
    listenPeerUrls,
    listenClientUrls,
    advertiseClientUrls: advertiseClient,
    initialAdvertisePeerUrls: advertisePeer,
    initialCluster,
    initialClusterToken: String(value('initial-cluster-token')),
    initialClusterState: state,
    heartbeatIntervalMs,
    electionTimeoutMs,
    snapshotCount: positiveNumber(value, 'snapshot-count'),
    autoCompaction: autoCompactionOf(value),
    maxRequestBytes: positiveNumber(value, 'max-request-bytes'),
    maxTxnOps: positiveNumber(value, 'max-txn-ops'),
    quotaBackendBytes: positiveNumber(value, 'quota-backend-bytes'),
    logLevel: logLevel as ServerConfig['logLevel'],
    // etcd's 'extensive' adds histograms, which 'basic' already has here.
    metrics: oneOf(value, 'metrics', ['basic', 'extensive', 'off'] as const) === 'off' ? 'off' : 'basic',
    traceRequests: oneOf(value, 'trace-requests', ['off', 'all'] as const),
    clientTls,
    peerTls,
    // etcd's --listen-metrics-urls (kubeadm: http://127.0.0.1:2381) is where our admin server,
    // with /metrics and /health, goes unless --listen-admin-urls says otherwise.
    listenAdminUrl: adminUrlOf(value('listen-admin-urls') ?? firstMetricsUrl(value), listenClientUrls[0]!),
    devControlUrl: devControlUrlOf(value('dev-control-url')),
    ignoredEtcdFlags: [],
  };
}

function autoCompactionOf(
  value: (flag: string) => string | boolean | undefined,
): AutoCompactionPolicy | undefined {
  const parsed = parseAutoCompaction(
    String(value('auto-compaction-mode')),
    String(value('auto-compaction-retention')),
  );
  if (typeof parsed === 'string') throw new ConfigError(parsed);
  return parsed;
}

function firstMetricsUrl(value: (flag: string) => string | boolean | undefined): string | undefined {
  const given = value('listen-metrics-urls');
  if (typeof given !== 'string' || given === '') return undefined;
  const plain = given.split(',').find((url) => url.startsWith('http://'));
  if (plain === undefined)
    throw new ConfigError(
      '--listen-metrics-urls: Synod serves metrics over http:// only; give one http:// URL',
    );
  return plain;
}

/** The admin server's URL: given (port 0 allowed: any free port), or the client URL's host at port + 2, plain HTTP. */
function adminUrlOf(given: string | boolean | undefined, client: PeerUrl): PeerUrl {
  if (typeof given !== 'string')
    return { scheme: 'http', host: client.host, port: client.port + ADMIN_PORT_OFFSET };
  const urls = parseUrls(given, 'listen-admin-urls', { allowPortZero: true });
  if (urls.length !== 1 || urls[0]!.scheme !== 'http') {
    throw new ConfigError('--listen-admin-urls takes one http:// URL, e.g. http://127.0.0.1:2381');
  }
  return urls[0]!;
}

function devControlUrlOf(given: string | boolean | undefined): string | undefined {
  if (typeof given !== 'string' || given === '') return undefined;
  parseUrls(given, 'dev-control-url');
  return given;
}

/** https:// needs certificates and certificates need https://, as in etcd. */
function checkSchemes(
  urls: readonly PeerUrl[],
  files: TlsFiles | undefined,
  flag: string,
  prefix: string,
): void {
  const secure = urls.some((url) => url.scheme === 'https');
  if (secure && !files) {
    throw new ConfigError(
      `--${flag} uses https:// but --${prefix}cert-file and --${prefix}key-file are not set`,
    );
  }
  if (!secure && files)
    throw new ConfigError(`--${prefix}cert-file is set but --${flag} uses http://; use https://`);
}

function positiveNumber(value: (flag: string) => string | boolean | undefined, flag: string): number {
  const parsed = Number(value(flag));
  if (!Number.isFinite(parsed) || parsed <= 0) throw new ConfigError(`--${flag} must be a positive number`);
  return parsed;
}

function tlsFiles(
  value: (flag: string) => string | boolean | undefined,
  prefix: string,
  authFlag: string,
): TlsFiles | undefined {
  const certFile = value(`${prefix}cert-file`);
  const keyFile = value(`${prefix}key-file`);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (typeof certFile !== 'string' || typeof keyFile !== 'string') {
    throw new ConfigError(`--${prefix}cert-file and --${prefix}key-file must be given together`);
  }
  const trusted = value(`${prefix}trusted-ca-file`);
  const clientCertAuth = value(authFlag) === true;
  if (clientCertAuth && typeof trusted !== 'string') {
    throw new ConfigError(`--${authFlag} needs --${prefix}trusted-ca-file`);
  }
  return {
    certFile,
    keyFile,
    trustedCaFile: typeof trusted === 'string' ? trusted : undefined,
    clientCertAuth,
  };
}

export function parseUrls(list: string, flag: string, options: { allowPortZero?: boolean } = {}): PeerUrl[] {
  return list.split(',').map((text) => {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      throw new ConfigError(`--${flag}: "${text}" is not a URL like http://127.0.0.1:2380`);
    }
    const scheme = url.protocol.replace(':', '');
    if (scheme !== 'http' && scheme !== 'https')
      throw new ConfigError(`--${flag}: scheme must be http or https`);
    const port = Number(url.port);
    const lowest = options.allowPortZero && url.port !== '' ? 0 : 1;
    if (!Number.isInteger(port) || port < lowest || port > 65535)
      throw new ConfigError(`--${flag}: "${text}" needs a port`);
    return { scheme, host: url.hostname.replace(/^\[|\]$/g, ''), port };
  });
}

export function parseInitialCluster(text: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const part of text.split(',')) {
    const [name, url] = part.split('=', 2);
    if (!name || !url)
      throw new ConfigError(`--initial-cluster: "${part}" should look like name=http://host:port`);
    parseUrls(url, 'initial-cluster');
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  return [...byName].map(([name, peerUrls]) => ({ name, peerUrls }));
}

/** etcd-style member id: a hash of the member's peer URLs and the cluster token (64 bits, never 0). */
export function memberIdOf(peerUrls: readonly string[], clusterToken: string): bigint {
  const digest = createHash('sha256')
    .update([...peerUrls].sort().join(','))
    .update(clusterToken)
    .digest();
  const id = digest.readBigUInt64BE(0);
  return id === 0n ? 1n : id;
}

/** Cluster id: a hash of the sorted initial member ids. */
export function clusterIdOf(memberIds: readonly bigint[]): bigint {
  const hash = createHash('sha256');
  for (const id of [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(id.toString(16));
  return hash.digest().readBigUInt64BE(0);
}

/** Raft node ids are member ids in hex, as etcd prints them. */
export function raftIdOf(memberId: bigint): string {
  return memberId.toString(16).padStart(16, '0');
}

export function formatFlagHelp(): string {
  const rows = Object.entries(SERVER_FLAGS).map(([flag, spec]) => {
    const defaults = spec.defaultValue !== undefined ? ` (default ${spec.defaultValue})` : '';
    return `  --${flag.padEnd(28)} ${spec.help}${defaults}`;
  });
  const accepted = Object.keys(ETCD_FLAGS_WITHOUT_EFFECT)
    .map((flag) => `--${flag}`)
    .join(', ');
  return `${rows.join('\n')}\n\netcd flags accepted without effect (a warning says why): ${accepted}`;
}

function oneOf<const T extends string>(
  value: (flag: string) => unknown,
  flag: string,
  allowed: readonly T[],
): T {
  const given = String(value(flag));
  if (!(allowed as readonly string[]).includes(given))
    throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')} (got ${given})`);
  return given as T;
}
