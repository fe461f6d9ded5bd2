// Node flags for a member process started by `synod dev` (and by the tests and benchmarks, which
// start members the same way). V8 lets the young generation grow to two 16 MiB semi-spaces on a
// 64-bit machine; any steady load reaches that and the memory stays resident, about a third of a
// member's RSS under 10,000 kept-alive leases. 8 MiB costs about 2% more CPU per put in
// scavenges; 1-2 MiB would cost about 20%. V8 reads the flag only at startup, so it goes on the
// command line (`synod start` run directly takes it from NODE_OPTIONS).

/** The semi-space cap, in MiB. */
export const MEMBER_SEMI_SPACE_MIB = 8;

/**
 * Flags to put before the script when spawning a member with `process.execPath`; none when the
 * caller already chose a semi-space size (in its own flags or NODE_OPTIONS).
 */
export function memberNodeFlags(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): string[] {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag))) return [];
  return [`--max-semi-space-size=${MEMBER_SEMI_SPACE_MIB}`];
}
