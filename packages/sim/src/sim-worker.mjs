// Worker thread entry: registers the TypeScript loader for this thread, then serves simulations.
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker-main.ts');
