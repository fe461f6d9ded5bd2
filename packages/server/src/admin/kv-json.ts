// Keys and values as the admin API's JSON carries them: UTF-8 text when the bytes are valid UTF-8,
// else base64 with an `encoding` (value) or `keyEncoding` (key) field saying so.
import type { KeyValue } from '@synod/state';
import type { KeysPage, WatchTailEvent } from './admin-backend.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function textOrBase64(bytes: Uint8Array): { text: string; base64: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), base64: false };
  } catch {
    return {
      text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      base64: true,
    };
  }
}

/** `key` and `value` fields, with `keyEncoding`/`encoding: "base64"` when the bytes are not UTF-8. */
function bytesFields(key: Uint8Array, value: Uint8Array): Record<string, string> {
  const keyText = textOrBase64(key);
  const valueText = textOrBase64(value);
  return {
    key: keyText.text,
    ...(keyText.base64 ? { keyEncoding: 'base64' } : {}),
    value: valueText.text,
    ...(valueText.base64 ? { encoding: 'base64' } : {}),
  };
}

export function keyValueJson(kv: KeyValue): Record<string, unknown> {
  return {
    ...bytesFields(kv.key, kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease.toString(16),
  };
}

/** The body of `GET /api/keys`. */
export function keysPageJson(page: KeysPage): Record<string, unknown> {
  return { revision: page.revision, kvs: page.kvs.map(keyValueJson), more: page.more };
}

/** The data of one `event: kv` on `/api/watch`. */
export function watchEventJson(event: WatchTailEvent): Record<string, unknown> {
  return { type: event.type, ...bytesFields(event.key, event.value), modRevision: event.modRevision };
}
