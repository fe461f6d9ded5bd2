// Who a member is: written to member.json on first boot (or by `synod snapshot restore`), and from
// then on the data directory, not the flags, says which member and cluster it belongs to.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConfState } from '@synod/raft';
import type { ClusterMember } from '@synod/state';
import type { ServerConfig } from '../config/server-config.js';
import { clusterIdOf, memberIdOf, raftIdOf } from '../config/server-config.js';

export interface MemberInfo {
  readonly name: string;
  readonly id: bigint;
  readonly raftId: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

export interface MemberIdentity {
  readonly self: MemberInfo;
  /** 0 until a member joining a running cluster has learned it from a peer. */
  readonly clusterId: bigint;
  readonly members: Map<string, MemberInfo>;
}

interface MemberFile {
  readonly name: string;
  readonly memberId: string;
  readonly clusterId: string;
  readonly members: readonly { name: string; memberId: string; peerUrls: readonly string[] }[];
}

/** member.json's cluster id while a joining member has not learned it yet. */
export const UNKNOWN_CLUSTER_ID = '';

const MEMBER_FILE = 'member.json';

/** Reads member.json, or creates it from the initial-cluster flags on first boot. */
export function loadOrCreateIdentity(config: ServerConfig): MemberIdentity {
  const path = join(config.dataDir, MEMBER_FILE);
  let file: MemberFile;
  if (existsSync(path)) {
    file = JSON.parse(readFileSync(path, 'utf8')) as MemberFile;
    if (file.name !== config.name) {
      throw new Error(
        `${path} belongs to member "${file.name}", not "${config.name}": use --name ${file.name} or another --data-dir`,
      );
    }
  } else {
    const members = config.initialCluster.map((member) => ({
      name: member.name,
      memberId: memberIdOf(member.peerUrls, config.initialClusterToken).toString(16),
      peerUrls: member.peerUrls,
    }));
    const self = members.find((member) => member.name === config.name)!;
    // A member joining a running cluster learns its id from the first peer that greets it.
    const clusterId =
      config.initialClusterState === 'existing'
        ? UNKNOWN_CLUSTER_ID
        : clusterIdOf(members.map((member) => BigInt(`0x${member.memberId}`))).toString(16);
    file = { name: config.name, memberId: self.memberId, clusterId, members };
    writeMemberFile(path, file);
  }
  const members = new Map<string, MemberInfo>();
  for (const member of file.members) {
    const id = BigInt(`0x${member.memberId}`);
    const clientUrls = member.name === config.name ? config.advertiseClientUrls : [];
    members.set(member.name, {
      name: member.name,
      id,
      raftId: raftIdOf(id),
      peerUrls: member.peerUrls,
      clientUrls,
    });
  }
  const clusterId = file.clusterId === UNKNOWN_CLUSTER_ID ? 0n : BigInt(`0x${file.clusterId}`);
  return { self: members.get(file.name)!, clusterId, members };
}

/** Records the cluster id a joining member learned (member.json said it was unknown). */
export function saveLearnedClusterId(dataDir: string, clusterId: string): void {
  const path = join(dataDir, MEMBER_FILE);
  const file = JSON.parse(readFileSync(path, 'utf8')) as MemberFile;
  writeMemberFile(path, { ...file, clusterId });
}

/** The founding members as the replicated member list starts with them. */
export function initialMembersOf(members: ReadonlyMap<string, MemberInfo>): ClusterMember[] {
  return [...members.values()].map((member) => ({
    id: member.id,
    // Published by each member once it runs (etcd's publish), so founders start unnamed alike.
    name: '',
    peerUrls: [...member.peerUrls],
    clientUrls: [],
    isLearner: false,
  }));
}

/** The configuration a new cluster starts with: every founding member votes. */
export function foundingConfState(members: ReadonlyMap<string, MemberInfo>): ConfState {
  const voters = [...members.values()].map((member) => member.raftId).sort();
  return { voters, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
}

/**
 * Replaces member.json all or nothing, durably: a member that lost it after a crash would boot as
 * someone else (or found a second cluster), so it is fsynced before and after the rename.
 */
function writeMemberFile(path: string, file: MemberFile): void {
  const temp = `${path}.tmp`;
  const descriptor = openSync(temp, 'w');
  try {
    writeSync(descriptor, `${JSON.stringify(file, null, 2)}\n`);
    fdatasyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temp, path);
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}
