// Entry of a watcher thread. Worker threads on Node 20 do not run the parent's `--import tsx`,
// so the TypeScript loader is registered here, as bin/synod.mjs does for the server.
import { register } from 'tsx/esm/api';

register();
await import('./watcher-thread.ts');
