// The keys browser: a serializable prefix range (GET /api/keys) on any reachable member.

/** Longest value shown in full; longer ones are cut (the member still returns them whole). */
const VALUE_PREVIEW_CHARS = 200;
/** The admin API's own cap on `limit`. */
const MAX_KEYS_LIMIT = 1_000;

/**
 * @typedef {import('./cluster-model.js').MemberState} MemberState
 * @typedef {{ key: string, value: string, encoding?: string, createRevision: number, modRevision: number, version: number, lease?: string }} KeyRow
 */

/** @param {KeyRow} row */
function valueText(row) {
  const prefix = row.encoding === 'base64' ? '(base64) ' : '';
  const value =
    row.value.length > VALUE_PREVIEW_CHARS ? `${row.value.slice(0, VALUE_PREVIEW_CHARS)}…` : row.value;
  return prefix + value;
}

/** @param {KeyRow} row */
function keyRow(row) {
  const tr = document.createElement('tr');
  const cells = [
    row.key,
    valueText(row),
    String(row.modRevision),
    String(row.createRevision),
    String(row.version),
    row.lease && row.lease !== '0' ? row.lease : '–',
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/**
 * @param {HTMLElement} root the keys section
 * @param {() => MemberState | undefined} pickMember
 */
export function setUpKeysPanel(root, pickMember) {
  const form = /** @type {HTMLFormElement} */ (root.querySelector('[data-testid="keys-form"]'));
  const status = /** @type {HTMLElement} */ (root.querySelector('[data-testid="keys-status"]'));
  const body = /** @type {HTMLElement} */ (root.querySelector('[data-testid="keys-table"] tbody'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const prefix = String(data.get('prefix') ?? '');
    const limit = Math.min(MAX_KEYS_LIMIT, Math.max(1, Number(data.get('limit')) || 100));
    const member = pickMember();
    if (!member) {
      status.textContent = 'No member is reachable right now.';
      return;
    }
    status.textContent = `Reading from ${member.name}…`;
    try {
      const query = new URLSearchParams({ prefix, limit: String(limit) });
      const response = await fetch(`${member.adminUrl}/api/keys?${query}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      /** @type {{ revision: number, kvs: KeyRow[], more: boolean }} */
      const result = await response.json();
      body.replaceChildren(...result.kvs.map(keyRow));
      const count = `${result.kvs.length} ${result.kvs.length === 1 ? 'key' : 'keys'}`;
      status.textContent = `${count} at revision ${result.revision} from ${member.name}${result.more ? ' (more exist: raise the limit)' : ''}.`;
    } catch (error) {
      status.textContent = `Could not read keys from ${member.name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  });
}
