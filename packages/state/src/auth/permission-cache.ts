// Each user's permissions merged into one key-range set per access type, built on first use and
// forgotten when the user or any role changes (etcd's rangePermCache; etcd rebuilds it for every
// user on every change, we rebuild lazily, only for users that are checked).
import type { AccessType, AuthRole, AuthUser, PermissionType } from './auth-types.js';
import { type KeyInterval, KeyRangeSet, keyInterval } from './key-range-set.js';

interface MergedPermissions {
  readonly read: KeyRangeSet;
  readonly write: KeyRangeSet;
}

const GRANTS: Record<PermissionType, { read: boolean; write: boolean }> = {
  READ: { read: true, write: false },
  WRITE: { read: false, write: true },
  READWRITE: { read: true, write: true },
};

export class PermissionCache {
  /** At most one entry per existing user. */
  private readonly merged = new Map<string, MergedPermissions>();
  private readonly userOf: (name: string) => AuthUser | undefined;
  private readonly roleOf: (name: string) => AuthRole | undefined;

  constructor(
    userOf: (name: string) => AuthUser | undefined,
    roleOf: (name: string) => AuthRole | undefined,
  ) {
    this.userOf = userOf;
    this.roleOf = roleOf;
  }

  /** Whether the user's permissions of `access` cover (key, rangeEnd); false for an unknown user. */
  covers(username: string, key: Uint8Array, rangeEnd: Uint8Array, access: AccessType): boolean {
    const merged = this.mergedFor(username);
    if (merged === undefined) return false;
    if (rangeEnd.length === 0) return merged[access].containsKey(key);
    return merged[access].covers(keyInterval(key, rangeEnd));
  }

  forgetUser(username: string): void {
    this.merged.delete(username);
  }

  clear(): void {
    this.merged.clear();
  }

  private mergedFor(username: string): MergedPermissions | undefined {
    const cached = this.merged.get(username);
    if (cached !== undefined) return cached;
    const user = this.userOf(username);
    if (user === undefined) return undefined;
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const roleName of user.roles) {
      // A granted role may be missing: "root" can be granted before it exists.
      for (const permission of this.roleOf(roleName)?.keyPermissions ?? []) {
        const interval = keyInterval(permission.key, permission.rangeEnd);
        const grants = GRANTS[permission.permType];
        if (grants.read) read.push(interval);
        if (grants.write) write.push(interval);
      }
    }
    const built = { read: KeyRangeSet.from(read), write: KeyRangeSet.from(write) };
    this.merged.set(username, built);
    return built;
  }
}
