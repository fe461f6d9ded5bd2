import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ETCD_ERRORS, MvccStore } from '@synod/state';
import { prefixEnd, text, utf8, WatchedStore, watchRequest } from './watch.fixture.js';
import {
  INVALID_WATCH_ID,
  WATCH_CREATE_REFUSALS,
  WatchHub,
  type WatchHubLimits,
  type WatchHubResponse,
  type WatchStream,
} from './watch-hub.js';

function setUp(limits: Partial<WatchHubLimits> = {}): {
  db: WatchedStore;
  hub: WatchHub;
  stream: WatchStream;
} {
  const db = new WatchedStore();
  const hub = new WatchHub(db.store, limits);
  db.hub = hub;
  return { db, hub, stream: hub.openStream() };
}

/** Every response the stream has now (bounded: a stream that never runs dry is a bug). */
function drain(stream: WatchStream): WatchHubResponse[] {
  const responses: WatchHubResponse[] = [];
  for (let turns = 0; stream.hasWork; turns++) {
    assert.ok(turns < 10_000, 'the stream never runs out of work');
    const response = stream.takeResponse();
    if (response !== undefined) responses.push(response);
  }
  return responses;
}

/** Responses as short lines: `created 0 @1`, `events 0 @3 PUT a=1 DELETE b`, `canceled …`. */
function describeResponse(response: WatchHubResponse): string {
  const at = `${response.watchId} @${response.revision}`;
  if (response.created) return response.canceled ? `refused ${at} ${response.cancelReason}` : `created ${at}`;
  if (response.canceled) {
    return response.compactRevision === 0
      ? `canceled ${at}`
      : `compacted ${at} from ${response.compactRevision}`;
  }
  if (response.events.length === 0) return `progress ${at}`;
  const events = response.events.map((event) => {
    const kv = `${text(event.kv.key)}${event.type === 'PUT' ? `=${text(event.kv.value)}` : ''}`;
    const previous = event.prevKv === undefined ? '' : ` (was ${text(event.prevKv.value)})`;
    return `${event.type} ${kv}${previous}`;
  });
  return `events ${at} ${events.join(', ')}`;
}

const transcript = (stream: WatchStream): string[] => drain(stream).map(describeResponse);

describe('WatchHub', () => {
  test('a watch from now answers created at the current revision, then each later write of its key', () => {
    const { db, stream } = setUp();
    db.put('a', '0'); // 2
    stream.create(watchRequest('a'));
    db.put('a', '1'); // 3
    db.put('b', '1'); // 4: not watched
    assert.deepEqual(transcript(stream), ['created 0 @2', 'events 0 @3 PUT a=1']);
    db.delete('a'); // 5
    db.put('a', '2'); // 6
    // Revisions that wait for the client go out together, whole.
    assert.deepEqual(transcript(stream), ['events 0 @6 DELETE a, PUT a=2']);
  });

  test('a prefix watch from a past revision replays history, then continues live without a gap or repeat', () => {
    const { db, stream } = setUp();
    db.put('a/1', 'x'); // 2
    db.put('b', 'x'); // 3
    db.put('a/2', 'x'); // 4
    stream.create(watchRequest('a/', { rangeEnd: prefixEnd('a/'), startRevision: 2 }));
    db.put('a/3', 'x'); // 5: published while the watch is still behind
    assert.deepEqual(transcript(stream), ['created 0 @4', 'events 0 @5 PUT a/1=x, PUT a/2=x, PUT a/3=x']);
    db.delete('a/', prefixEnd('a/')); // 6
    assert.deepEqual(transcript(stream), ['events 0 @6 DELETE a/1, DELETE a/2, DELETE a/3']);
  });

  test('a slow client’s watch falls back to history when its buffer is full, and still sees every event once', () => {
    const { db, hub, stream } = setUp({ watcherBufferEventsMax: 2, responseEventsMax: 3 });
    stream.create(watchRequest('k'));
    stream.takeResponse(); // created
    for (let i = 1; i <= 8; i++) db.put('k', String(i)); // revisions 2..9, nobody reading
    assert.equal(hub.stats.slowWatcherFallbacks, 1);
    assert.equal(hub.stats.bufferedEvents, 2, 'the buffer stops at its limit');
    assert.deepEqual(transcript(stream), [
      'events 0 @3 PUT k=1, PUT k=2', // the buffer
      'events 0 @6 PUT k=3, PUT k=4, PUT k=5', // history, three events per read
      'events 0 @9 PUT k=6, PUT k=7, PUT k=8',
    ]);
    db.put('k', '9');
    assert.deepEqual(transcript(stream), ['events 0 @10 PUT k=9'], 'synced again: live events');
    assert.equal(hub.stats.unsyncedWatchers, 0);
  });

  test('a watch that falls behind past a compaction is cancelled with the first complete revision', () => {
    const { db, hub, stream } = setUp({ watcherBufferEventsMax: 1 });
    stream.create(watchRequest('k'));
    db.put('k', '1'); // 2: buffered
    db.put('k', '2'); // 3: buffer full, falls behind at 3
    db.put('k', '3'); // 4
    db.compact(4);
    assert.deepEqual(transcript(stream), ['created 0 @1', 'events 0 @2 PUT k=1', 'compacted 0 @4 from 5']);
    assert.equal(hub.stats.watchers, 0);
    assert.equal(hub.stats.compactionCancels, 1);
  });

  test('a watch from a compacted revision is created, then cancelled as compacted', () => {
    const { db, stream } = setUp();
    db.put('k', '1'); // 2
    db.put('k', '2'); // 3
    db.compact(3);
    stream.create(watchRequest('k', { startRevision: 3 }));
    const responses = drain(stream);
    assert.deepEqual(responses.map(describeResponse), ['created 0 @3', 'compacted 0 @3 from 4']);
    assert.equal(responses[1]!.cancelReason, ETCD_ERRORS.compacted.message);
    stream.create(watchRequest('k', { startRevision: 4 }));
    assert.deepEqual(transcript(stream), ['created 1 @3']);
  });

  test('client-chosen watch ids are honoured; a taken one is refused as etcd refuses it; auto ids skip taken ones', () => {
    const { stream } = setUp();
    stream.create(watchRequest('a', { watchId: 1 }));
    stream.create(watchRequest('b', { watchId: 1 }));
    stream.create(watchRequest('c'));
    stream.create(watchRequest('d'));
    assert.deepEqual(transcript(stream), [
      'created 1 @1',
      `refused ${INVALID_WATCH_ID} @1 ${WATCH_CREATE_REFUSALS.duplicateId}`,
      'created 0 @1',
      'created 2 @1',
    ]);
  });

  test('an empty range and a negative start revision are refused', () => {
    const { stream } = setUp();
    stream.create(watchRequest('b', { rangeEnd: utf8('a') }));
    stream.create(watchRequest('a', { rangeEnd: utf8('a') }));
    stream.create(watchRequest('a', { startRevision: -1 }));
    assert.deepEqual(transcript(stream), [
      `refused -1 @1 ${WATCH_CREATE_REFUSALS.emptyRange}`,
      `refused -1 @1 ${WATCH_CREATE_REFUSALS.emptyRange}`,
      `refused -1 @1 ${ETCD_ERRORS.compacted.message}`,
    ]);
  });

  test('an empty key watches from "\\0": with range end "\\0" that is every key', () => {
    const { db, stream } = setUp();
    stream.create(watchRequest('', { rangeEnd: new Uint8Array([0]) }));
    db.put('\u0000', 'zero');
    db.put('z', 'z');
    assert.deepEqual(transcript(stream), ['created 0 @1', 'events 0 @3 PUT \u0000=zero, PUT z=z']);
  });

  test('NOPUT and NODELETE filters drop those events; prevKv is sent only when asked', () => {
    const { db, stream } = setUp();
    db.put('k', '0'); // 2
    stream.create(watchRequest('k', { filters: ['NOPUT'], prevKv: true }));
    stream.create(watchRequest('k', { filters: ['NODELETE'] }));
    stream.create(watchRequest('k', { prevKv: true }));
    db.put('k', '1'); // 3
    db.delete('k'); // 4
    assert.deepEqual(transcript(stream), [
      'created 0 @2',
      'created 1 @2',
      'created 2 @2',
      'events 1 @3 PUT k=1',
      'events 2 @4 PUT k=1 (was 0), DELETE k (was 1)',
      'events 0 @4 DELETE k (was 1)',
    ]);
  });

  test('progress_notify: an idle interval gives a progress response; an interval with events gives none', () => {
    const { db, stream } = setUp();
    stream.create(watchRequest('k', { progressNotify: true }));
    stream.create(watchRequest('other')); // no progress_notify
    drain(stream);
    db.put('x', '1'); // 2: not watched
    stream.progressTick();
    assert.deepEqual(transcript(stream), ['progress 0 @2']);
    db.put('k', '1'); // 3
    assert.deepEqual(transcript(stream), ['events 0 @3 PUT k=1']);
    stream.progressTick(); // events went out during this interval: nothing
    assert.deepEqual(transcript(stream), []);
    stream.progressTick();
    assert.deepEqual(transcript(stream), ['progress 0 @3']);
  });

  test('progress_request: answered with watch id -1 after the events it vouches for, and only once all watches are synced', () => {
    const { db, stream } = setUp({ responseEventsMax: 1 });
    db.put('a', '1'); // 2
    db.put('a', '2'); // 3
    stream.create(watchRequest('b'));
    stream.create(watchRequest('a', { startRevision: 2 })); // behind: catching up
    stream.requestProgress();
    db.put('b', '1'); // 4
    assert.deepEqual(transcript(stream), [
      'created 0 @3',
      'created 1 @3',
      'events 1 @2 PUT a=1',
      'events 0 @4 PUT b=1',
      'events 1 @4 PUT a=2', // caught up: read to the end
      'progress -1 @4',
    ]);
  });

  test('a progress_request on a stream without watches gets no answer, as in etcd', () => {
    const { stream } = setUp();
    stream.requestProgress();
    assert.deepEqual(transcript(stream), []);
  });

  test('cancel answers canceled and stops the events; an unknown id gets no answer (etcd 3.4)', () => {
    const { db, hub, stream } = setUp();
    stream.create(watchRequest('k'));
    db.put('k', '1');
    stream.cancel(0);
    stream.cancel(7);
    db.put('k', '2');
    assert.deepEqual(transcript(stream), ['created 0 @1', 'canceled 0 @2']);
    assert.deepEqual(hub.stats, { ...hub.stats, watchers: 0, bufferedEvents: 0, bufferedBytes: 0 });
  });

  test('the watches-per-stream and per-server limits refuse further creates with etcd’s "too many requests"', () => {
    const { hub, stream } = setUp({ watchersPerStreamMax: 2, watchersMax: 3 });
    stream.create(watchRequest('a'));
    stream.create(watchRequest('b'));
    stream.create(watchRequest('c'));
    const other = hub.openStream();
    other.create(watchRequest('d'));
    other.create(watchRequest('e'));
    const tooMany = `refused -1 @1 ${ETCD_ERRORS.tooManyRequests.message}`;
    assert.deepEqual(transcript(stream), ['created 0 @1', 'created 1 @1', tooMany]);
    assert.deepEqual(transcript(other), ['created 0 @1', tooMany]);
  });

  test('the control queue is bounded: a create beyond it is a caller bug; taking an answer makes room', async () => {
    const { stream } = setUp({ controlQueueResponsesMax: 2 });
    stream.create(watchRequest('a'));
    stream.create(watchRequest('b'));
    assert.equal(stream.hasControlRoom, false);
    assert.throws(() => stream.create(watchRequest('c')), /control queue is full/);
    let roomMade = false;
    const room = stream.waitForControlRoom().then(() => {
      roomMade = true;
    });
    await Promise.resolve();
    assert.equal(roomMade, false);
    stream.takeResponse();
    await room;
    assert.equal(stream.hasControlRoom, true);
  });

  test('closing a stream ends its watches and wakes a waiting sender', async () => {
    const { db, hub, stream } = setUp();
    stream.create(watchRequest('k'));
    drain(stream);
    const woken = stream.waitForWork();
    stream.close();
    await woken;
    db.put('k', '1');
    assert.equal(stream.takeResponse(), undefined);
    assert.deepEqual([hub.stats.streams, hub.stats.watchers], [0, 0]);
  });

  test('publishing out of order is a bug', () => {
    const { hub } = setUp();
    const store = new MvccStore();
    const applied = store.apply({
      kind: 'put',
      request: {
        key: utf8('k'),
        value: utf8('v'),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    });
    assert.ok(!('error' in applied));
    hub.publish(applied.events, applied.revision);
    assert.throws(() => hub.publish(applied.events, applied.revision), /does not follow/);
  });

  test('after the history is replaced (snapshot install), synced watches read what they missed from it', () => {
    const db = new WatchedStore();
    let current = db.store;
    const history = {
      get currentRevision() {
        return current.currentRevision;
      },
      get compactedRevision() {
        return current.compactedRevision;
      },
      eventsSince: (...args: Parameters<MvccStore['eventsSince']>) => current.eventsSince(...args),
    };
    const hub = new WatchHub(history);
    db.hub = hub;
    const stream = hub.openStream();
    stream.create(watchRequest('k'));
    db.put('k', '1'); // 2
    // A member that was away installs a snapshot of a store that went further.
    const leader = new WatchedStore();
    leader.put('k', '1'); // 2
    leader.put('k', '2'); // 3
    leader.put('x', '2'); // 4
    current = MvccStore.restore(leader.store.snapshot());
    hub.historyReplaced();
    assert.deepEqual(transcript(stream), ['created 0 @1', 'events 0 @2 PUT k=1', 'events 0 @4 PUT k=2']);
  });

  test('a watch that is never quite drained reuses its buffer slots, and every event still comes once, in order', () => {
    const { db, hub, stream } = setUp({ responseEventsMax: 1 });
    stream.create(watchRequest('k', { prevKv: true }));
    assert.deepEqual(transcript(stream), ['created 0 @1']);
    for (let i = 0; i < 3; i++) db.put('k', `${i}`);
    const seen: string[] = [];
    for (let i = 3; i < 2_000; i++) {
      db.put('k', `${i}`);
      const response = stream.takeResponse()!;
      assert.equal(response.events.length, 1);
      seen.push(text(response.events[0]!.kv.value));
    }
    seen.push(...drain(stream).map((response) => text(response.events[0]!.kv.value)));
    assert.deepEqual(
      seen,
      Array.from({ length: 2_000 }, (_, i) => `${i}`),
    );
    assert.equal(hub.stats.bufferedEvents, 0);
    const watcher = [...stream.watchersInOrder()][0]!;
    assert.ok(watcher.buffer.length <= 16, `${watcher.buffer.length} buffer slots for 4 events at most`);
    assert.ok(watcher.buffer.every((slot) => slot === undefined));
  });

  test('watchers without prev_kv or filters share one list of events per write (nothing copied per watcher)', () => {
    const { db, stream } = setUp();
    stream.create(watchRequest('k'));
    stream.create(watchRequest('k'));
    stream.create(watchRequest('k', { prevKv: true }));
    drain(stream);
    db.put('k', '1');
    const responses = drain(stream);
    db.put('k', '2');
    responses.push(...drain(stream));
    const plain = responses.filter((response) => response.watchId !== 2 && response.revision === 3);
    assert.equal(plain.length, 2);
    assert.equal(plain[0]!.events, plain[1]!.events);
    assert.equal(plain[0]!.events[0]!.prevKv, undefined);
    const withPrev = responses.filter((response) => response.watchId === 2);
    assert.equal(text(withPrev[1]!.events[0]!.prevKv?.value), '1');
  });

  test('a multi-event write is shared by the watchers it concerns in full, and split for the others', () => {
    const { db, stream } = setUp();
    db.put('p/a', '1');
    db.put('p/b', '2');
    stream.create(watchRequest('p/', { rangeEnd: prefixEnd('p/') }));
    stream.create(watchRequest('p/', { rangeEnd: prefixEnd('p/') }));
    stream.create(watchRequest('p/b'));
    drain(stream);
    db.delete('p/', prefixEnd('p/'));
    const responses = drain(stream);
    const [first, second, single] = [0, 1, 2].map((id) => responses.find((r) => r.watchId === id)!);
    assert.equal(first!.events.length, 2);
    assert.equal(first!.events, second!.events);
    assert.deepEqual(
      single!.events.map((event) => text(event.kv.key)),
      ['p/b'],
    );
  });
});
