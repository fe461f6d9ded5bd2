// The auth state as bytes, for Raft snapshots. Layout (little-endian; varints unsigned LEB128;
// strings and byte strings length-prefixed, strings in UTF-8):
//   magic "SAUT" · format version u32 · body · CRC-32C of everything before it u32
//   body = enabled u8 · authRevision · user count · users ascending by name · role count · roles ascending
//   user = name · passwordHash · noPassword u8 · role count · role names ascending
//   role = name · permission count · permissions (type u8: 0 READ, 1 WRITE, 2 READWRITE · key · rangeEnd)
import { crc32c } from '@synod/core/hashing';
import { compareBytes } from '../mvcc/bytes.js';
import { ByteReader, ByteWriter, TruncatedInputError } from '../mvcc/encoding.js';
import type { AuthRole, AuthUser, Permission, PermissionType } from './auth-types.js';
import { compareNames } from './names.js';

/** The store's state as a snapshot holds it (AuthStore's `state()`). */
interface AuthStateData {
  readonly enabled: boolean;
  readonly authRevision: number;
  readonly users: readonly AuthUser[];
  readonly roles: readonly AuthRole[];
}

const MAGIC = new Uint8Array([0x53, 0x41, 0x55, 0x54]); // "SAUT"
/** Bump on any layout change; restore refuses versions it does not know. */
export const AUTH_SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4;
const TRAILER_BYTES = 4;
/** Smallest encoding of any counted item (a length prefix): bounds counts read from untrusted input. */
const ITEM_BYTES_MIN = 1;
const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE'];

export type AuthSnapshotErrorCode = 'corrupt' | 'unsupportedVersion';

/** Snapshot bytes that cannot be restored; the message says what is wrong. */
export class AuthSnapshotError extends Error {
  readonly code: AuthSnapshotErrorCode;

  constructor(code: AuthSnapshotErrorCode, detail: string) {
    super(
      `auth snapshot cannot be restored: ${detail}. ` +
        'Restore this member from an intact snapshot (another member has one) or replay its log.',
    );
    this.name = 'AuthSnapshotError';
    this.code = code;
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeAuthSnapshot(state: AuthStateData): Uint8Array {
  const writer = new ByteWriter();
  writer.raw(MAGIC);
  writer.uint32(AUTH_SNAPSHOT_FORMAT_VERSION);
  writer.uint8(state.enabled ? 1 : 0);
  writer.uvarint(state.authRevision);
  writer.uvarint(state.users.length);
  for (const user of state.users) {
    writer.lengthPrefixed(utf8Encoder.encode(user.name));
    writer.lengthPrefixed(utf8Encoder.encode(user.passwordHash));
    writer.uint8(user.noPassword ? 1 : 0);
    writer.uvarint(user.roles.length);
    for (const role of user.roles) writer.lengthPrefixed(utf8Encoder.encode(role));
  }
  writer.uvarint(state.roles.length);
  for (const role of state.roles) {
    writer.lengthPrefixed(utf8Encoder.encode(role.name));
    writer.uvarint(role.keyPermissions.length);
    for (const permission of role.keyPermissions) {
      writer.uint8(PERMISSION_TYPES.indexOf(permission.permType));
      writer.lengthPrefixed(permission.key);
      writer.lengthPrefixed(permission.rangeEnd);
    }
  }
  writer.uint32(crc32c(writer.bytes()));
  return writer.bytes().slice();
}

/** @throws AuthSnapshotError on anything but an intact snapshot of a known format. */
export function decodeAuthSnapshot(bytes: Uint8Array): AuthStateData {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new AuthSnapshotError('corrupt', `${bytes.length} bytes is shorter than any snapshot`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i])
      throw new AuthSnapshotError('corrupt', 'it does not start with the magic "SAUT"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== AUTH_SNAPSHOT_FORMAT_VERSION) {
    throw new AuthSnapshotError(
      'unsupportedVersion',
      `format version ${version} is not the supported version ${AUTH_SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  const bodyEnd = bytes.length - TRAILER_BYTES;
  const stored = view.getUint32(bodyEnd, true);
  const computed = crc32c(bytes.subarray(0, bodyEnd));
  if (stored !== computed) {
    throw new AuthSnapshotError(
      'corrupt',
      `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`,
    );
  }
  const reader = new ByteReader(bytes.subarray(HEADER_BYTES, bodyEnd));
  try {
    return decodeBody(reader);
  } catch (error) {
    if (error instanceof TruncatedInputError) {
      throw new AuthSnapshotError('corrupt', `${error.message} (body offset ${reader.offset})`);
    }
    throw error;
  }
}

function decodeBody(reader: ByteReader): AuthStateData {
  const enabled = readFlag(reader, 'enabled');
  const authRevision = reader.uvarint();
  if (authRevision < 1) throw new AuthSnapshotError('corrupt', `auth revision ${authRevision} is below 1`);
  const users: AuthUser[] = [];
  const userCount = boundedCount(reader, 'user count');
  for (let i = 0; i < userCount; i++) users.push(readUser(reader));
  checkAscending(
    users.map((user) => user.name),
    'user names',
  );
  const roles: AuthRole[] = [];
  const roleCount = boundedCount(reader, 'role count');
  for (let i = 0; i < roleCount; i++) roles.push(readRole(reader));
  checkAscending(
    roles.map((role) => role.name),
    'role names',
  );
  if (reader.remaining !== 0)
    throw new AuthSnapshotError('corrupt', `${reader.remaining} bytes follow the roles`);
  return { enabled, authRevision, users, roles };
}

function readUser(reader: ByteReader): AuthUser {
  const name = readName(reader, 'user name');
  const passwordHash = readString(reader, 'password hash');
  const noPassword = readFlag(reader, 'noPassword');
  const roles: string[] = [];
  const roleCount = boundedCount(reader, 'granted role count');
  for (let i = 0; i < roleCount; i++) roles.push(readName(reader, 'granted role'));
  checkAscending(roles, `roles of user ${JSON.stringify(name)}`);
  return { name, passwordHash, noPassword, roles };
}

function readRole(reader: ByteReader): AuthRole {
  const name = readName(reader, 'role name');
  const keyPermissions: Permission[] = [];
  const count = boundedCount(reader, 'permission count');
  for (let i = 0; i < count; i++) {
    const type = reader.uint8();
    const permType = PERMISSION_TYPES[type];
    if (permType === undefined) throw new AuthSnapshotError('corrupt', `unknown permission type ${type}`);
    const key = reader.lengthPrefixed();
    const rangeEnd = reader.lengthPrefixed();
    if (key.length === 0)
      throw new AuthSnapshotError('corrupt', `role ${JSON.stringify(name)} has an empty key`);
    const previous = keyPermissions.at(-1);
    if (previous !== undefined && compareBytes(previous.key, key) > 0) {
      throw new AuthSnapshotError('corrupt', `permissions of role ${JSON.stringify(name)} are out of order`);
    }
    keyPermissions.push({ permType, key, rangeEnd });
  }
  return { name, keyPermissions };
}

function readFlag(reader: ByteReader, what: string): boolean {
  const byte = reader.uint8();
  if (byte > 1) throw new AuthSnapshotError('corrupt', `${what} flag is ${byte}, not 0 or 1`);
  return byte === 1;
}

function readString(reader: ByteReader, what: string): string {
  const bytes = reader.lengthPrefixed();
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new AuthSnapshotError('corrupt', `${what} is not valid UTF-8 (body offset ${reader.offset})`);
  }
}

function readName(reader: ByteReader, what: string): string {
  const name = readString(reader, what);
  if (name.length === 0)
    throw new AuthSnapshotError('corrupt', `${what} is empty (body offset ${reader.offset})`);
  return name;
}

function checkAscending(names: readonly string[], what: string): void {
  for (let i = 1; i < names.length; i++) {
    if (compareNames(names[i - 1]!, names[i]!) >= 0) {
      throw new AuthSnapshotError(
        'corrupt',
        `${what} are not strictly ascending at ${JSON.stringify(names[i])}`,
      );
    }
  }
}

/** A count that the remaining bytes could hold: never allocate for a count the input cannot back. */
function boundedCount(reader: ByteReader, what: string): number {
  const count = reader.uvarint();
  if (count > reader.remaining / ITEM_BYTES_MIN) {
    throw new AuthSnapshotError(
      'corrupt',
      `${what} ${count} exceeds what ${reader.remaining} bytes can hold`,
    );
  }
  return count;
}
