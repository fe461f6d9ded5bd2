// Encoders and decoders for the etcdserverpb.Auth service's messages (auth-service.proto and
// auth.proto beside this file; field numbers are etcd's). The Auth messages are flat — strings,
// a header, one nested Permission — so each is described once as a table of fields, and one small
// routine reads and writes every table. Encoders leave proto3 defaults out, as Go does; decoders
// give absent fields their defaults, skip unknown fields and throw ProtoDecodeError on anything
// malformed (the gRPC server answers that with INVALID_ARGUMENT).
import type { AuthEmptyValue, AuthStatus, Permission, PermissionType, ResponseHeader } from '@synod/state';
import {
  fieldTag,
  ProtoReader,
  ProtoWriter,
  UnknownEnumValueError,
  WireType,
  type WireTypeCode,
} from '../proto/wire.js';

// ---- a field table: how one field of a message is read and written ----

interface FieldCodec<T> {
  readonly fieldNumber: number;
  readonly wireType: WireTypeCode;
  /** The value of an absent field. */
  readonly absent: () => T;
  /** Reads one occurrence; repeated fields add to `current`. */
  read(reader: ProtoReader, current: T): T;
  write(writer: ProtoWriter, value: T): void;
}

type FieldTable<T> = { readonly [K in keyof T]-?: FieldCodec<T[K]> };

/** Reads and writes one message type from its field table. */
export interface MessageCodec<T> {
  read(reader: ProtoReader): T;
  writeFields(writer: ProtoWriter, message: T): void;
  decode(bytes: Uint8Array): T;
  encode(message: T): Uint8Array;
}

function messageCodec<T>(table: FieldTable<T>): MessageCodec<T> {
  const entries = Object.entries(table) as [keyof T & string, FieldCodec<unknown>][];
  const byTag = new Map(
    entries.map(([name, field]) => [fieldTag(field.fieldNumber, field.wireType), [name, field] as const]),
  );
  const read = (reader: ProtoReader): T => {
    const message: Record<string, unknown> = {};
    for (const [name, field] of entries) message[name] = field.absent();
    while (!reader.done()) {
      const tag = reader.tag();
      const known = byTag.get(tag);
      if (known === undefined) reader.skip(tag);
      else message[known[0]] = known[1].read(reader, message[known[0]]);
    }
    return message as T;
  };
  const writeFields = (writer: ProtoWriter, message: T): void => {
    for (const [name, field] of entries) field.write(writer, message[name]);
  };
  return {
    read,
    writeFields,
    decode: (bytes) => read(new ProtoReader(bytes)),
    encode: (message) => {
      const writer = new ProtoWriter();
      writeFields(writer, message);
      return writer.finish();
    },
  };
}

const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;
const VARINT = WireType.VARINT;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

const string = (fieldNumber: number): FieldCodec<string> => ({
  fieldNumber,
  wireType: LENGTH_DELIMITED,
  absent: () => '',
  read: (reader) => reader.string(),
  write: (writer, value) => writer.stringField(fieldNumber, value),
});

const repeatedString = (fieldNumber: number): FieldCodec<readonly string[]> => ({
  fieldNumber,
  wireType: LENGTH_DELIMITED,
  absent: () => [],
  read: (reader, current) => [...current, reader.string()],
  write: (writer, values) => {
    for (const value of values) writer.stringFieldAlways(fieldNumber, value);
  },
});

const bytes = (fieldNumber: number): FieldCodec<Uint8Array> => ({
  fieldNumber,
  wireType: LENGTH_DELIMITED,
  absent: () => EMPTY_BYTES,
  read: (reader) => reader.bytes(),
  write: (writer, value) => writer.bytesField(fieldNumber, value),
});

const bool = (fieldNumber: number): FieldCodec<boolean> => ({
  fieldNumber,
  wireType: VARINT,
  absent: () => false,
  read: (reader) => reader.bool(),
  write: (writer, value) => writer.boolField(fieldNumber, value),
});

/** uint64 counters that stay below 2^53. */
const uint64 = (fieldNumber: number): FieldCodec<number> => ({
  fieldNumber,
  wireType: VARINT,
  absent: () => 0,
  read: (reader) => reader.uint64(),
  write: (writer, value) => writer.uint64Field(fieldNumber, value),
});

const uint64BigInt = (fieldNumber: number): FieldCodec<bigint> => ({
  fieldNumber,
  wireType: VARINT,
  absent: () => 0n,
  read: (reader) => reader.uint64BigInt(),
  write: (writer, value) => writer.uint64BigIntField(fieldNumber, value),
});

const int64 = (fieldNumber: number): FieldCodec<number> => ({
  fieldNumber,
  wireType: VARINT,
  absent: () => 0,
  read: (reader) => reader.int64(),
  write: (writer, value) => writer.int64Field(fieldNumber, value),
});

function enumeration<Name extends string>(
  fieldNumber: number,
  names: readonly Name[],
  field: string,
): FieldCodec<Name> {
  return {
    fieldNumber,
    wireType: VARINT,
    absent: () => names[0]!,
    read: (reader) => {
      const at = reader.offset;
      const value = reader.enumValue();
      const name = names[value];
      if (name === undefined) throw new UnknownEnumValueError(field, value, at);
      return name;
    },
    write: (writer, value) => {
      const number = names.indexOf(value);
      if (number < 0) throw new TypeError(`${JSON.stringify(value)} is not a value of ${field}`);
      writer.enumField(fieldNumber, number);
    },
  };
}

/** An embedded message; undefined when absent (proto3 message fields have presence). */
function optionalMessage<T>(fieldNumber: number, codec: MessageCodec<T>): FieldCodec<T | undefined> {
  return {
    fieldNumber,
    wireType: LENGTH_DELIMITED,
    absent: () => undefined,
    read: (reader) => codec.read(reader.message()),
    write: (writer, value) => {
      if (value === undefined) return;
      const start = writer.beginMessage(fieldNumber);
      codec.writeFields(writer, value);
      writer.endMessage(start);
    },
  };
}

function repeatedMessage<T>(fieldNumber: number, codec: MessageCodec<T>): FieldCodec<readonly T[]> {
  return {
    fieldNumber,
    wireType: LENGTH_DELIMITED,
    absent: () => [],
    read: (reader, current) => [...current, codec.read(reader.message())],
    write: (writer, values) => {
      for (const value of values) {
        const start = writer.beginMessage(fieldNumber);
        codec.writeFields(writer, value);
        writer.endMessage(start);
      }
    },
  };
}

// ---- authpb and the response header ----

const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE'];

/** authpb.Permission */
export const PERMISSION = messageCodec<Permission>({
  permType: enumeration(1, PERMISSION_TYPES, 'Permission.permType'),
  key: bytes(2),
  rangeEnd: bytes(3),
});

/** authpb.UserAddOptions */
export interface UserAddOptions {
  readonly noPassword: boolean;
}
const USER_ADD_OPTIONS = messageCodec<UserAddOptions>({ noPassword: bool(1) });

/** etcdserverpb.ResponseHeader (our own encoder; the KV codecs keep theirs private). */
export const RESPONSE_HEADER = messageCodec<ResponseHeader>({
  clusterId: uint64BigInt(1),
  memberId: uint64BigInt(2),
  revision: int64(3),
  raftTerm: uint64(4),
});

// ---- requests ----

export type AuthEmptyRequest = AuthEmptyValue;
export interface AuthenticateRequest {
  readonly name: string;
  readonly password: string;
}
/** `hashedPassword` (field 4, etcd 3.5+) is not decoded: the server hashes at the edge itself. */
export interface AuthUserAddRequest {
  readonly name: string;
  readonly password: string;
  readonly options: UserAddOptions | undefined;
}
export interface AuthUserNameRequest {
  readonly name: string;
}
/** `hashedPassword` (field 3) is not decoded, as for UserAdd. */
export interface AuthUserChangePasswordRequest {
  readonly name: string;
  readonly password: string;
}
export interface AuthUserGrantRoleRequest {
  readonly user: string;
  readonly role: string;
}
export interface AuthUserRevokeRoleRequest {
  readonly name: string;
  readonly role: string;
}
export interface AuthRoleAddRequest {
  readonly name: string;
}
export interface AuthRoleNameRequest {
  readonly role: string;
}
export interface AuthRoleGrantPermissionRequest {
  readonly name: string;
  readonly perm: Permission | undefined;
}
export interface AuthRoleRevokePermissionRequest {
  readonly role: string;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
}

const EMPTY_REQUEST = messageCodec<AuthEmptyRequest>({});
const AUTHENTICATE_REQUEST = messageCodec<AuthenticateRequest>({ name: string(1), password: string(2) });
const USER_ADD_REQUEST = messageCodec<AuthUserAddRequest>({
  name: string(1),
  password: string(2),
  options: optionalMessage(3, USER_ADD_OPTIONS),
});
const USER_NAME_REQUEST = messageCodec<AuthUserNameRequest>({ name: string(1) });
const USER_CHANGE_PASSWORD_REQUEST = messageCodec<AuthUserChangePasswordRequest>({
  name: string(1),
  password: string(2),
});
const USER_GRANT_ROLE_REQUEST = messageCodec<AuthUserGrantRoleRequest>({ user: string(1), role: string(2) });
const USER_REVOKE_ROLE_REQUEST = messageCodec<AuthUserRevokeRoleRequest>({
  name: string(1),
  role: string(2),
});
const ROLE_ADD_REQUEST = messageCodec<AuthRoleAddRequest>({ name: string(1) });
const ROLE_NAME_REQUEST = messageCodec<AuthRoleNameRequest>({ role: string(1) });
const ROLE_GRANT_PERMISSION_REQUEST = messageCodec<AuthRoleGrantPermissionRequest>({
  name: string(1),
  perm: optionalMessage(2, PERMISSION),
});
const ROLE_REVOKE_PERMISSION_REQUEST = messageCodec<AuthRoleRevokePermissionRequest>({
  role: string(1),
  key: bytes(2),
  rangeEnd: bytes(3),
});

// ---- responses: the body plus the header ----

export type WithResponseHeader<T> = T & { readonly header: ResponseHeader | undefined };
/** Responses that carry only the header. */
export interface AuthHeaderOnlyResponse {
  readonly header: ResponseHeader | undefined;
}
export type AuthStatusResponse = WithResponseHeader<AuthStatus>;
export type AuthenticateResponse = WithResponseHeader<{ readonly token: string }>;
export type AuthUserGetResponse = WithResponseHeader<{ readonly roles: readonly string[] }>;
export type AuthUserListResponse = WithResponseHeader<{ readonly users: readonly string[] }>;
export type AuthRoleGetResponse = WithResponseHeader<{ readonly perm: readonly Permission[] }>;
export type AuthRoleListResponse = WithResponseHeader<{ readonly roles: readonly string[] }>;

const header = optionalMessage(1, RESPONSE_HEADER);
const HEADER_ONLY_RESPONSE = messageCodec<AuthHeaderOnlyResponse>({ header });
const STATUS_RESPONSE = messageCodec<AuthStatusResponse>({
  header,
  enabled: bool(2),
  authRevision: uint64(3),
});
const AUTHENTICATE_RESPONSE = messageCodec<AuthenticateResponse>({ header, token: string(2) });
const USER_GET_RESPONSE = messageCodec<AuthUserGetResponse>({ header, roles: repeatedString(2) });
const USER_LIST_RESPONSE = messageCodec<AuthUserListResponse>({ header, users: repeatedString(2) });
const ROLE_GET_RESPONSE = messageCodec<AuthRoleGetResponse>({ header, perm: repeatedMessage(2, PERMISSION) });
const ROLE_LIST_RESPONSE = messageCodec<AuthRoleListResponse>({ header, roles: repeatedString(2) });

/** Both directions of one method: the server decodes requests and encodes responses; clients (tests) the reverse. */
export interface AuthMethodMessages<Request, Response> {
  readonly request: MessageCodec<Request>;
  readonly response: MessageCodec<Response>;
}

const method = <Request, Response>(
  request: MessageCodec<Request>,
  response: MessageCodec<Response>,
): AuthMethodMessages<Request, Response> => ({ request, response });

/** The messages of every etcdserverpb.Auth method, by method name. */
export const AUTH_MESSAGES = {
  AuthEnable: method(EMPTY_REQUEST, HEADER_ONLY_RESPONSE),
  AuthDisable: method(EMPTY_REQUEST, HEADER_ONLY_RESPONSE),
  AuthStatus: method(EMPTY_REQUEST, STATUS_RESPONSE),
  Authenticate: method(AUTHENTICATE_REQUEST, AUTHENTICATE_RESPONSE),
  UserAdd: method(USER_ADD_REQUEST, HEADER_ONLY_RESPONSE),
  UserGet: method(USER_NAME_REQUEST, USER_GET_RESPONSE),
  UserList: method(EMPTY_REQUEST, USER_LIST_RESPONSE),
  UserDelete: method(USER_NAME_REQUEST, HEADER_ONLY_RESPONSE),
  UserChangePassword: method(USER_CHANGE_PASSWORD_REQUEST, HEADER_ONLY_RESPONSE),
  UserGrantRole: method(USER_GRANT_ROLE_REQUEST, HEADER_ONLY_RESPONSE),
  UserRevokeRole: method(USER_REVOKE_ROLE_REQUEST, HEADER_ONLY_RESPONSE),
  RoleAdd: method(ROLE_ADD_REQUEST, HEADER_ONLY_RESPONSE),
  RoleGet: method(ROLE_NAME_REQUEST, ROLE_GET_RESPONSE),
  RoleList: method(EMPTY_REQUEST, ROLE_LIST_RESPONSE),
  RoleDelete: method(ROLE_NAME_REQUEST, HEADER_ONLY_RESPONSE),
  RoleGrantPermission: method(ROLE_GRANT_PERMISSION_REQUEST, HEADER_ONLY_RESPONSE),
  RoleRevokePermission: method(ROLE_REVOKE_PERMISSION_REQUEST, HEADER_ONLY_RESPONSE),
} as const;

export type AuthMethodName = keyof typeof AUTH_MESSAGES;
export type AuthRequestOf<M extends AuthMethodName> =
  (typeof AUTH_MESSAGES)[M] extends AuthMethodMessages<infer R, unknown> ? R : never;
export type AuthResponseOf<M extends AuthMethodName> =
  (typeof AUTH_MESSAGES)[M] extends AuthMethodMessages<unknown, infer R> ? R : never;

/** The server side of a method, in the shape `unary()` takes. */
export function authMethodCodec<M extends AuthMethodName>(
  name: M,
): { decode(bytes: Uint8Array): AuthRequestOf<M>; encode(response: AuthResponseOf<M>): Uint8Array } {
  const messages = AUTH_MESSAGES[name] as unknown as AuthMethodMessages<AuthRequestOf<M>, AuthResponseOf<M>>;
  return { decode: messages.request.decode, encode: messages.response.encode };
}
