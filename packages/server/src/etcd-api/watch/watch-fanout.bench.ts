// The member's side of a watch fan-out, without sockets: one write at a time published to 400
// watchers of a prefix (4 streams of 100), each stream drained and its events responses written
// out as the service does (plainEventsResponsePartsWith, then the bytes). Prints ns per delivered
// event and the garbage collections per round (a proxy for what each event allocates). Not a test.
// Usage: node --import tsx --max-semi-space-size=8 packages/server/src/etcd-api/watch/watch-fanout.bench.ts [--prev-kv]
import { PerformanceObserver } from 'node:perf_hooks';
import { prefixEnd, WatchedStore, watchRequest } from './watch.fixture.js';
import { plainEventsResponsePartsWith, writeWatchResponseParts } from './watch-codec.js';
import { WatchHub } from './watch-hub.js';

const STREAMS = 4;
const WATCHES_PER_STREAM = 100;
const KEYS = 100;
const WARMUP_PUTS = 3_000;
const PUTS_PER_ROUND = 10_000;
const ROUNDS = 5;
const OUTPUT_BYTES = 1 << 20;

const prevKv = process.argv.includes('--prev-kv');
let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

const db = new WatchedStore();
const hub = new WatchHub(db.store, {});
db.hub = hub;
const streams = Array.from({ length: STREAMS }, () => hub.openStream());
for (const stream of streams) {
  for (let i = 0; i < WATCHES_PER_STREAM; i++) {
    stream.create(watchRequest('/p/', { rangeEnd: prefixEnd('/p/'), prevKv }));
    while (stream.hasWork) stream.takeResponse();
  }
}
const output = new Uint8Array(OUTPUT_BYTES);
const value = 'v'.repeat(64);

/** Puts `puts` times, draining every stream after each; returns the events delivered. */
function round(puts: number): number {
  let events = 0;
  for (let put = 0; put < puts; put++) {
    db.put(`/p/k${put % KEYS}`, value);
    const header = { clusterId: 1n, memberId: 2n, revision: db.store.currentRevision, raftTerm: 3 };
    for (const stream of streams) {
      let offset = 0;
      for (let response = stream.takeResponse(); response; response = stream.takeResponse()) {
        events += response.events.length;
        const parts = plainEventsResponsePartsWith(response, header);
        if (parts === undefined) throw new Error('expected a plain events response');
        offset = writeWatchResponseParts(parts, output, offset);
        if (offset > OUTPUT_BYTES / 2) offset = 0;
      }
    }
  }
  return events;
}

round(WARMUP_PUTS);
for (let r = 0; r < ROUNDS; r++) {
  collections = 0;
  const started = performance.now();
  const events = round(PUTS_PER_ROUND);
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 10));
  console.log(JSON.stringify({ prevKv, events, nsPerEvent: Math.round((ms * 1e6) / events), collections }));
}
