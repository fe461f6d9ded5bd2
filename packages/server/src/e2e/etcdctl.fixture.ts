// Running Debian's etcdctl (package etcd-client) from end-to-end tests.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Longest an etcdctl command may run in a test. */
const ETCDCTL_TIMEOUT_MS = 30_000;

/** etcdctl 3.4 puts the URL's scheme into the HTTP/2 authority, which Node refuses: pass host:port. */
export function bareEndpoint(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

export async function etcdctl(endpoints: string, args: readonly string[], input?: string): Promise<string> {
  const child = run('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=10s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    // Commands without a deadline of their own (watch, lock, elect) are killed here instead.
    timeout: ETCDCTL_TIMEOUT_MS,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    const { stdout } = await child;
    return stdout.trim();
  } catch (error) {
    const failure = error as { code?: string; stderr?: string; message: string };
    if (failure.code === 'ENOENT')
      throw new Error('etcdctl is not installed: apt-get install -y etcd-client');
    throw new Error(`etcdctl ${args.join(' ')} failed: ${failure.stderr ?? failure.message}`);
  }
}

/**
 * A fresh machine with only Node and npm has no etcdctl: there these tests are skipped with the
 * reason. CI installs etcd-client and sets SYNOD_REQUIRE_ETCDCTL=1, so there they cannot be skipped.
 */
export function etcdctlMissing(): string | false {
  const found = spawnSync('etcdctl', ['version'], { stdio: 'ignore' });
  if (!found.error) return false;
  if (process.env.SYNOD_REQUIRE_ETCDCTL === '1')
    throw new Error('etcdctl is required here: apt-get install -y etcd-client');
  return 'etcdctl is not installed (apt-get install -y etcd-client); .ci/run installs it';
}

export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message; // not yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${lastError ? ` (last error: ${lastError.slice(-300)})` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
