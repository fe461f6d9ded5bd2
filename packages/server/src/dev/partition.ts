// Partition requests of `synod dev`: validating the groups a user sends and turning them into the
// peers each member must block (POST /api/dev/faults on its admin server). Pure, so tested alone.

/** Largest partition request body read by the control server. */
export const MAX_PARTITION_BODY_BYTES = 16 * 1024;

export type PartitionGroups = readonly (readonly string[])[];

export type ParsedPartition =
  | { readonly ok: true; readonly groups: PartitionGroups }
  | { readonly ok: false; readonly error: string };

/**
 * Reads `{"groups":[["n1"],["n2","n3"]]}`: every name a known member, none in two groups. Members
 * in no group are cut off from everyone (each is its own group).
 */
export function parsePartition(body: string, memberNames: readonly string[]): ParsedPartition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, error: 'the body must be JSON: {"groups":[["n1"],["n2","n3"]]}' };
  }
  const groups = (parsed as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) {
    return { ok: false, error: 'expected "groups": a non-empty array of arrays of member names' };
  }
  const seen = new Set<string>();
  for (const group of groups) {
    if (!Array.isArray(group) || group.some((name) => typeof name !== 'string')) {
      return { ok: false, error: 'each group must be an array of member names' };
    }
    for (const name of group as string[]) {
      if (!memberNames.includes(name)) {
        return { ok: false, error: `unknown member "${name}" (members: ${memberNames.join(', ')})` };
      }
      if (seen.has(name)) return { ok: false, error: `member "${name}" is in more than one group` };
      seen.add(name);
    }
  }
  return { ok: true, groups: groups as string[][] };
}

/**
 * For each member, the raft ids of the members outside its group: the peers whose frames it must
 * drop both ways. `null` groups (healed) block nothing.
 */
export function blockedPeersByMember(
  groups: PartitionGroups | null,
  raftIds: ReadonlyMap<string, string>,
): Map<string, string[]> {
  const blocked = new Map<string, string[]>();
  for (const name of raftIds.keys()) {
    const group =
      groups?.find((candidate) => candidate.includes(name)) ?? (groups ? [name] : [...raftIds.keys()]);
    const outside = [...raftIds.entries()]
      .filter(([other]) => !group.includes(other))
      .map(([, raftId]) => raftId);
    blocked.set(name, outside);
  }
  return blocked;
}

/** "n1 | n2 n3" — how the console and the answers describe a partition. */
export function describeGroups(groups: PartitionGroups): string {
  return groups.map((group) => group.join(' ')).join(' | ');
}
