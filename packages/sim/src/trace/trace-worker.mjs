// Worker thread entry for runTracedSimulation: registers the TypeScript loader for this thread,
// then runs the one traced simulation it was started for.
import { register } from 'tsx/esm/api';

register();
await import('./trace-worker-main.ts');
