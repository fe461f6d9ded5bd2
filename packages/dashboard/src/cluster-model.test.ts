// The page's pure cluster model (public/assets/cluster-model.js), checked without a browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';

type LinkStatus = 'connecting' | 'up' | 'down';
interface ViewFields {
  name: string;
  raftId: string;
  adminUrl: string;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: { name: string; raftId: string; adminUrl: string; connected?: boolean }[];
  messageRates: { to: string; perSecond: number; queueDepth: number }[];
  elections: { term: number; leader: string; atMs: number }[];
}
interface MemberState {
  key: string;
  name: string;
  adminUrl: string;
  raftId: string;
  status: LinkStatus;
  view: ViewFields | null;
}
/** The module's exports, typed here because it is plain JS served to browsers as is. */
interface ClusterModel {
  membersFromView(view: ViewFields): { name: string; adminUrl: string; raftId: string }[];
  memberKey(ref: { raftId: string; adminUrl: string }): string;
  memberLabel(member: { name: string; raftId: string }): string;
  currentLeader(members: readonly MemberState[]): MemberState | undefined;
  roleLabel(member: MemberState, leader: MemberState | undefined): string;
  lagBehindLeader(member: MemberState, leader: MemberState | undefined): number | null;
  peerConnectivity(view: ViewFields): { connected: number; total: number };
  mergeElections(
    members: readonly MemberState[],
    limit?: number,
  ): { term: number; leaderName: string; atMs: number }[];
  rateEdges(members: readonly MemberState[]): { from: string; to: string; perSecond: number }[];
  leaderAnnouncement(previousName: string | undefined, leader: MemberState | undefined): string | undefined;
  isolationGroups(isolated: string, allNames: readonly string[]): { groups: string[][] };
  pickLiveMember(
    members: readonly MemberState[],
    options?: { avoid?: string; prefer?: string },
  ): MemberState | undefined;
}

const modelUrl = new URL('../public/assets/cluster-model.js', import.meta.url).href;
const model = (await import(modelUrl)) as ClusterModel;

const ADMIN = { n1: 'http://127.0.0.1:2381', n2: 'http://127.0.0.1:22381', n3: 'http://127.0.0.1:32381' };
const RAFT_IDS = { n1: 'a1', n2: 'a2', n3: 'a3' };
type Name = keyof typeof ADMIN;

function view(name: Name, fields: Partial<ViewFields> = {}): ViewFields {
  return {
    name,
    raftId: RAFT_IDS[name],
    adminUrl: ADMIN[name],
    role: 'follower',
    term: 2,
    commitIndex: 10,
    appliedIndex: 10,
    members: (['n1', 'n2', 'n3'] as const).map((peer) => ({
      name: peer,
      raftId: RAFT_IDS[peer],
      adminUrl: ADMIN[peer],
      connected: true,
    })),
    messageRates: [],
    elections: [],
    ...fields,
  };
}

function member(name: Name, status: LinkStatus, fields: Partial<ViewFields> = {}): MemberState {
  return {
    key: RAFT_IDS[name],
    name,
    adminUrl: ADMIN[name],
    raftId: RAFT_IDS[name],
    status,
    view: view(name, fields),
  };
}

test('members come from the view itself and its member list, once each, in name order', () => {
  const names = model.membersFromView(view('n2')).map((ref) => ref.name);
  assert.deepEqual(names, ['n1', 'n2', 'n3']);
  const alone = model.membersFromView(view('n3', { members: [] }));
  assert.deepEqual(alone, [{ name: 'n3', adminUrl: ADMIN.n3, raftId: 'a3' }]);
});

test('a member its peers list without a name (not yet published) is the same member, by raft id', () => {
  const early = view('n1');
  early.members = early.members.map((peer) => (peer.name === 'n2' ? { ...peer, name: '' } : peer));
  const refs = model.membersFromView(early);
  assert.deepEqual(
    refs.map((ref) => ref.name),
    ['n1', 'n3', ''],
  );
  assert.equal(model.memberKey(refs[2]!), 'a2');
  assert.equal(model.memberLabel(refs[2]!), 'unnamed a2');
  assert.equal(model.memberKey({ raftId: '', adminUrl: ADMIN.n3 }), ADMIN.n3);
});

test('the shown leader is the reachable self-declared leader with the highest term', () => {
  const stale = member('n1', 'up', { role: 'leader', term: 2 });
  const fresh = member('n2', 'up', { role: 'leader', term: 3 });
  const follower = member('n3', 'up', { term: 3 });
  assert.equal(model.currentLeader([stale, fresh, follower]), fresh);
  assert.equal(model.roleLabel(stale, fresh), 'stale leader');
  assert.equal(model.roleLabel(fresh, fresh), 'leader');
  // A leader whose stream failed is not shown as leader, and its role is unknown.
  const dead = member('n2', 'down', { role: 'leader', term: 3 });
  assert.equal(model.currentLeader([dead, follower]), undefined);
  assert.equal(model.roleLabel(dead, undefined), 'unknown');
});

test("lag counts the leader's committed entries a member has not applied yet", () => {
  const leader = member('n1', 'up', { role: 'leader', commitIndex: 120 });
  assert.equal(model.lagBehindLeader(member('n2', 'up', { appliedIndex: 117 }), leader), 3);
  assert.equal(model.lagBehindLeader(member('n2', 'up', { appliedIndex: 125 }), leader), 0);
  assert.equal(model.lagBehindLeader(member('n2', 'down'), leader), null);
  assert.equal(model.lagBehindLeader(member('n2', 'up'), undefined), null);
});

test('peer connectivity counts connected peers, not the member itself', () => {
  const cut = view('n1');
  cut.members = cut.members.map((peer) => ({ ...peer, connected: peer.name === 'n1' }));
  assert.deepEqual(model.peerConnectivity(cut), { connected: 0, total: 2 });
  assert.deepEqual(model.peerConnectivity(view('n1')), { connected: 2, total: 2 });
});

test('elections merge across members, one per term (earliest sighting), newest first, bounded', () => {
  const members = [
    member('n1', 'up', {
      elections: [
        { term: 2, leader: 'a1', atMs: 1_000 },
        { term: 3, leader: 'a2', atMs: 2_050 },
      ],
    }),
    member('n2', 'down', { elections: [{ term: 3, leader: 'a2', atMs: 2_000 }] }),
    member('n3', 'up', { elections: [{ term: 4, leader: 'ff', atMs: 3_000 }] }),
  ];
  assert.deepEqual(model.mergeElections(members), [
    { term: 4, leaderName: 'ff', atMs: 3_000 },
    { term: 3, leaderName: 'n2', atMs: 2_000 },
    { term: 2, leaderName: 'n1', atMs: 1_000 },
  ]);
  assert.equal(model.mergeElections(members, 2).length, 2);
});

test('rate edges name both ends and leave out members that are down', () => {
  const members = [
    member('n1', 'up', { messageRates: [{ to: 'a2', perSecond: 40, queueDepth: 1 }] }),
    member('n2', 'down', { messageRates: [{ to: 'a1', perSecond: 9, queueDepth: 0 }] }),
  ];
  assert.deepEqual(model.rateEdges(members), [{ from: 'n1', to: 'n2', perSecond: 40, queueDepth: 1 }]);
});

test('a leader change is announced once, and the loss of the leader is announced too', () => {
  const leader = member('n2', 'up', { role: 'leader', term: 7 });
  assert.equal(model.leaderAnnouncement('n1', leader), 'Leader is now n2 (term 7).');
  assert.equal(model.leaderAnnouncement('n2', leader), undefined);
  assert.match(model.leaderAnnouncement('n2', undefined) ?? '', /No leader/);
  assert.equal(model.leaderAnnouncement(undefined, undefined), undefined);
});

test('isolating a member puts it alone and everyone else together', () => {
  assert.deepEqual(model.isolationGroups('n2', ['n1', 'n2', 'n3']), { groups: [['n2'], ['n1', 'n3']] });
});

test('requests go through a reachable member, never the one to avoid', () => {
  const members = [member('n1', 'up'), member('n2', 'down'), member('n3', 'up')];
  assert.equal(model.pickLiveMember(members, { avoid: 'n1' })?.name, 'n3');
  assert.equal(model.pickLiveMember(members, { prefer: 'n3' })?.name, 'n3');
  assert.equal(model.pickLiveMember(members, { prefer: 'n2' })?.name, 'n1');
  assert.equal(model.pickLiveMember([member('n1', 'up')], { avoid: 'n1' }), undefined);
});
