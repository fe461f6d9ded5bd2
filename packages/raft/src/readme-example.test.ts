// The example in packages/raft/README.md, run as a test. The README's code block must equal the
// `@synod/raft` import below followed by the region between the two markers, so the example
// cannot drift from code that compiles and runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EMPTY_CONF_STATE, MemoryStorage, type Message, RawNode, type Ready } from '@synod/raft';

// readme-example:start
/** One member of the group: the core, its stable storage, and its tiny state machine. */
interface Member {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  readonly applied: string[];
  readonly readIndexes: Map<string, number>;
}

const ids = ['n1', 'n2', 'n3'];
const members = new Map<string, Member>();
for (const [i, id] of ids.entries()) {
  // Bootstrap: every initial member starts from the same configuration and an empty log.
  const storage = new MemoryStorage({ ...EMPTY_CONF_STATE, voters: ids });
  // Election timeouts are drawn from `random`; a fixed, distinct value per member keeps this
  // example deterministic. Use a real or seeded random source: equal timeouts split the vote.
  const node = new RawNode({ id, random: { next: () => (i + 1) / 4 } }, storage);
  members.set(id, { node, storage, applied: [], readIndexes: new Map() });
}
const network: Message[] = [];

function handleReady(member: Member, ready: Ready): void {
  // 1. Persist. A real driver writes these to disk and fsyncs when ready.mustSync is set.
  if (ready.snapshot) member.storage.applySnapshot(ready.snapshot);
  member.storage.append(ready.entries);
  if (ready.hardState) member.storage.setHardState(ready.hardState);
  // 2. Send, now that everything the messages promise is durable.
  network.push(...ready.messages);
  // 3. Apply committed entries in order (a new leader's empty entry carries no command).
  for (const entry of ready.committedEntries) {
    if (entry.kind === 'normal' && entry.data.byteLength > 0) {
      member.applied.push(new TextDecoder().decode(entry.data));
    }
  }
  for (const read of ready.readStates) member.readIndexes.set(read.context, read.index);
  // 4. Hand the Ready back; only now does the core produce the next one.
  member.node.advance(ready);
}

/** Processes Readys and delivers messages until nothing moves. */
function settle(): void {
  for (let round = 0; round < 1_000; round++) {
    let moved = false;
    for (const member of members.values()) {
      if (!member.node.hasReady()) continue;
      handleReady(member, member.node.ready());
      moved = true;
    }
    for (const message of network.splice(0)) {
      members.get(message.to)?.node.step(message);
      moved = true;
    }
    if (!moved) return;
  }
  throw new Error('the group did not settle');
}

function leader(): Member | undefined {
  return [...members.values()].find((member) => member.node.status().role === 'leader');
}

// Time passes only through tick(): a follower campaigns after 10–19 ticks without a leader.
for (let tick = 0; tick < 100 && leader() === undefined; tick++) {
  for (const member of members.values()) member.node.tick();
  settle();
}

const proposal = leader()!.node.propose(new TextEncoder().encode('x=1'));
if (!proposal.ok) throw new Error(`proposal refused: ${proposal.reason}`);
settle(); // every member has now applied 'x=1' at proposal.index

// A linearizable read: the ReadState arrives after a heartbeat round confirms leadership.
// Serve the read once the state machine has applied up to its index.
const read = leader()!.node.readIndex('read-1');
if (!read.ok) throw new Error(`read refused: ${read.reason}`);
settle(); // leader().readIndexes.get('read-1') === proposal.index
// readme-example:end

test('the README example elects a leader, replicates a command to every member and serves a read', () => {
  assert.ok(proposal.ok);
  for (const member of members.values()) assert.deepEqual(member.applied, ['x=1']);
  assert.equal(leader()?.readIndexes.get('read-1'), proposal.index);
});

test('the README shows exactly this example', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const importLine = source.split('\n').find((line) => line.endsWith("from '@synod/raft';"));
  const region = source.split('// readme-example:start\n')[1]?.split('// readme-example:end')[0];
  assert.ok(importLine && region, 'markers or import line missing');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = readme.split('```ts\n')[1]?.split('```')[0];
  assert.equal(block, `${importLine}\n\n${region}`, 'packages/raft/README.md example differs from this test');
});
