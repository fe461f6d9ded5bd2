import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Raft } from '@synod/raft';
import fc from 'fast-check';
import type { PeerStats } from '../transport/transport-options.js';
import {
  type AdminMember,
  type KnownMember,
  prefixRangeEnd,
  SynodAdminBackend,
} from './synod-admin-backend.js';

interface FakeRaft {
  term: number;
  lead: string;
  role: string;
  log: { committed: number; lastIndex: () => number };
  confState: { learners: string[] };
  progress: Map<string, { match: number }>;
}

function peerStats(nodeId: string, sentMessages: number, connected = true): PeerStats {
  return {
    nodeId,
    connected,
    linkBlocked: false,
    queuedBytes: 0,
    queuedMessages: 1,
    sentMessages,
    sentBatches: 0,
    sentBytes: 0,
    receivedMessages: 0,
    droppedMessages: 0,
    blockedMessages: 0,
    reconnects: 0,
    rttMs: undefined,
  };
}

function fixture() {
  const raft: FakeRaft = {
    term: 4,
    lead: 'aa',
    role: 'leader',
    log: { committed: 9, lastIndex: () => 10 },
    confState: { learners: ['cc'] },
    progress: new Map([['bb', { match: 8 }]]),
  };
  const members: KnownMember[] = [
    { name: 'n1', memberId: 0xaan, raftId: 'aa', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [] },
    { name: 'n3', memberId: 0xccn, raftId: 'cc', peerUrls: ['http://127.0.0.1:32380'], clientUrls: [] },
    {
      name: 'n2',
      memberId: 0xbbn,
      raftId: 'bb',
      peerUrls: ['http://127.0.0.1:22380'],
      clientUrls: ['http://10.0.0.2:22379'],
    },
  ];
  let peers = new Map([
    ['bb', peerStats('bb', 100)],
    ['cc', peerStats('cc', 0, false)],
  ]);
  const blocked: string[][] = [];
  let nowMs = 1_000_000;
  const member: AdminMember = {
    name: 'n1',
    memberId: 0xaan,
    raftId: 'aa',
    clusterId: 0xc1n,
    clientUrl: 'http://127.0.0.1:2379',
    members: () => members,
    raft: () => raft as unknown as Raft,
    appliedIndex: () => 9,
    onApplied: () => () => {},
    peerStats: () => peers,
    setBlockedPeers: (ids) => blocked.push([...ids]),
    revision: () => 1,
    range: async () => ({ ok: true, value: { kvs: [], more: false, count: 0 }, revision: 1 }),
  };
  const backend = new SynodAdminBackend({
    member,
    adminUrl: () => 'http://127.0.0.1:2381',
    elections: () => [],
    dev: false,
    now: () => nowMs,
  });
  return {
    backend,
    raft,
    blocked,
    setPeers: (next: typeof peers) => {
      peers = next;
    },
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('prefixRangeEnd', () => {
  it('is the first key after every key that starts with the prefix, and leaves the prefix alone', () => {
    assert.deepEqual([...prefixRangeEnd(Buffer.from('a/'))], [...Buffer.from('a0')]);
    assert.deepEqual([...prefixRangeEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
    assert.deepEqual([...prefixRangeEnd(new Uint8Array([0xff, 0xff]))], [0]);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 4 }),
        (prefix, rest) => {
          const original = Buffer.from(prefix);
          const end = prefixRangeEnd(Buffer.from(prefix));
          assert.deepEqual(Buffer.from(prefix), original, 'the prefix is not modified');
          const key = Buffer.concat([prefix, rest]);
          if (end.length === 1 && end[0] === 0) return; // no upper bound
          assert.ok(
            Buffer.compare(key, Buffer.from(end)) < 0,
            'every key with the prefix sorts below the end',
          );
        },
      ),
    );
  });
});

describe('SynodAdminBackend', () => {
  it('builds the NodeView: roles in the dashboard’s words, members by name, match indexes on the leader', () => {
    const { backend, raft } = fixture();
    const view = backend.nodeView();
    assert.equal(view.role, 'leader');
    assert.equal(view.memberId, 'aa');
    assert.equal(view.clusterId, 'c1');
    assert.deepEqual(
      view.members.map((member) => [member.name, member.matchIndex, member.isLearner, member.connected]),
      [
        ['n2', 8, false, true],
        ['n3', null, true, false],
      ],
    );
    assert.equal(view.members[0]?.clientUrl, 'http://10.0.0.2:22379');
    assert.equal(view.members[0]?.adminUrl, 'http://10.0.0.2:22381');
    assert.equal(view.members[1]?.clientUrl, 'http://127.0.0.1:32379', 'by the port convention');
    assert.equal(view.members[1]?.adminUrl, 'http://127.0.0.1:32381');
    raft.role = 'preCandidate';
    raft.lead = '';
    const candidate = backend.nodeView();
    assert.equal(candidate.role, 'pre-candidate');
    assert.ok(candidate.members.every((member) => member.matchIndex === null));
  });

  it('measures message rates over at least a second', () => {
    const { backend, setPeers, advance } = fixture();
    assert.equal(backend.nodeView().messageRates.find((rate) => rate.to === 'bb')?.perSecond, 0);
    advance(500);
    setPeers(new Map([['bb', peerStats('bb', 150)]]));
    assert.equal(backend.nodeView().messageRates[0]?.perSecond, 0, 'half a second is not a window yet');
    advance(1_500);
    setPeers(new Map([['bb', peerStats('bb', 300)]]));
    assert.deepEqual(backend.nodeView().messageRates, [{ to: 'bb', perSecond: 100, queueDepth: 1 }]);
  });

  it('blocks only known peers, each once', () => {
    const { backend, blocked } = fixture();
    assert.deepEqual(backend.applyFaults(['cc', 'bb', 'cc']), { ok: true, blockedPeers: ['bb', 'cc'] });
    assert.deepEqual(blocked, [['bb', 'cc']]);
    const refused = backend.applyFaults(['aa', 'dd']);
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.message, /not peers of this member: aa, dd/);
    assert.equal(blocked.length, 1);
  });
});
