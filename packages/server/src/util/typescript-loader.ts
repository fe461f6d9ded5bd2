// The member usually runs from its bundled build (plain JavaScript, no TypeScript loader: that
// loader costs about 45 MB per process). The few workspace packages it loads only on demand and
// that ship TypeScript sources (the simulator) need the loader: it is registered on first use.
let registered: Promise<void> | undefined;

/** Makes TypeScript sources importable (a no-op when the process already runs through tsx). */
export function ensureTypeScriptLoader(): Promise<void> {
  if (process.env.SYNOD_BUNDLED !== '1') return Promise.resolve();
  registered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return registered;
}
