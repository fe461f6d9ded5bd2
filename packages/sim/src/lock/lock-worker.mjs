// Worker thread entry: registers the TypeScript loader for this thread, then serves lock runs.
import { register } from 'tsx/esm/api';

register();
await import('./lock-worker-main.ts');
