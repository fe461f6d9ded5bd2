// The dashboard is static files: a member's admin server serves them from `dashboardPublicDir`.
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the dashboard's `public/` folder (`index.html`, `assets/…`).
 *
 * @example
 * import { dashboardPublicDir } from '@synod/dashboard';
 * const indexPath = join(dashboardPublicDir, 'index.html');
 */
export const dashboardPublicDir: string = fileURLToPath(new URL('../public/', import.meta.url));
