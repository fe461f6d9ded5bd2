// JSON <-> protobuf binary for etcd's HTTP gateway, driven by a ProtoSchema (proto-parser.ts).
// It behaves as etcd's grpc-gateway does (its JSONPb marshaler with OrigName: true and
// EmitDefaults: false):
//  - output keys are the field names as written in the .proto file; input takes those or the
//    lowerCamelCase JSON names;
//  - 64-bit integers go out as decimal strings (JSON numbers cannot hold them exactly) and come in
//    as strings or numbers; bytes are base64; enums are names (numbers when unknown);
//  - fields at their default value are left out, except a oneof member that is set (its presence
//    is its meaning, e.g. Compare's `version: 0`).
// Binary output is what Go's encoder writes: fields in number order, proto3 defaults left out,
// repeated numeric fields packed. Nesting is bounded as the gRPC decoders bound it.

import {
  MESSAGE_NESTING_MAX,
  ProtoDecodeError,
  WireType,
  type WireTypeCode,
} from '../etcd-api/proto/wire.js';
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from '../grpc/server.js';
import type { EnumSchema, FieldSchema, MessageSchema, ProtoSchema, ScalarType } from './proto-parser.js';
import { WireReader, WireWriter } from './wire-primitives.js';

export type {
  EnumSchema,
  FieldSchema,
  MessageSchema,
  MethodSchema,
  ProtoSchema,
  ScalarType,
} from './proto-parser.js';

/** A JSON value that does not fit the message: the message names the field path, e.g. `compare[0].target`. */
export class ProtoJsonError extends Error {
  /** Where in the JSON the problem is (`''` for the top-level value). */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(path === '' ? problem : `${path}: ${problem}`);
    this.name = 'ProtoJsonError';
    this.path = path;
  }
}

export interface ProtoJsonLimits {
  /** Messages nested deeper than this are refused (the top-level message is depth 0). */
  readonly maxDepth?: number;
  /** jsonToProto refuses to produce a message larger than this; by default, what the gRPC server accepts. */
  readonly maxBytes?: number;
}

/** As deep as the gRPC side's decoders follow (protobuf C++'s default). */
export const PROTO_JSON_DEPTH_MAX = MESSAGE_NESTING_MAX;

/**
 * The protobuf binary of `messageName` for a JSON value (as JSON.parse gives it; bigints are taken
 * too, for callers that parse large integers exactly). `null` stands for an empty message.
 *
 * @example
 * jsonToProto(ETCD_SCHEMA, 'etcdserverpb.PutRequest', { key: 'Zm9v', value: 'YmFy' });
 * // throws ProtoJsonError('lease: ...') for { key: 'Zm9v', lease: 1.5 }
 */
export function jsonToProto(
  schema: ProtoSchema,
  messageName: string,
  json: unknown,
  limits: ProtoJsonLimits = {},
): Uint8Array {
  const message = compiledSchema(schema).message(messageName);
  const encoder: JsonEncoder = {
    maxDepth: limits.maxDepth ?? PROTO_JSON_DEPTH_MAX,
    // Read at call time, not at module load: this module and the gRPC server's may import each other.
    maxBytes: limits.maxBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  };
  return encodeMessage(encoder, message, json ?? {}, '', 0);
}

/**
 * The JSON form of a binary `messageName`, as etcd's gateway writes it. Unknown fields are
 * skipped; malformed bytes throw ProtoDecodeError.
 *
 * @example
 * protoToJson(ETCD_SCHEMA, 'etcdserverpb.PutResponse', bytes);
 * // { header: { cluster_id: '14841639068965178418', member_id: '…', revision: '2', raft_term: '2' } }
 */
export function protoToJson(
  schema: ProtoSchema,
  messageName: string,
  bytes: Uint8Array,
  limits: Pick<ProtoJsonLimits, 'maxDepth'> = {},
): Record<string, unknown> {
  const message = compiledSchema(schema).message(messageName);
  const state = emptyState(message);
  decodeInto(limits.maxDepth ?? PROTO_JSON_DEPTH_MAX, message, state, new WireReader(bytes), '', 0);
  return render(message, state);
}

// ---- the schema, indexed for transcoding ----

type FieldKind = ScalarType | 'message' | 'enum';

interface CompiledField {
  readonly schema: FieldSchema;
  readonly name: string;
  readonly kind: FieldKind;
  /** Position in the message's declaration order, and its slot in a decoded message. */
  readonly index: number;
  readonly wireType: WireTypeCode;
  /** Repeated numeric fields: written packed, read packed or not. */
  readonly packed: boolean;
  readonly oneof: string | undefined;
  /** Set for message fields, once every message is compiled (types may be recursive). */
  message: CompiledMessage | undefined;
  enum: CompiledEnum | undefined;
}

interface CompiledMessage {
  readonly name: string;
  readonly fields: readonly CompiledField[];
  readonly fieldsInNumberOrder: readonly CompiledField[];
  readonly fieldsByNumber: ReadonlyMap<number, CompiledField>;
  /** Both spellings of every field: as written and the JSON name. */
  readonly fieldsByJsonKey: ReadonlyMap<string, CompiledField>;
}

interface CompiledEnum {
  readonly name: string;
  readonly numbersByName: ReadonlyMap<string, number>;
  readonly namesByNumber: ReadonlyMap<number, string>;
}

interface CompiledSchema {
  message(name: string): CompiledMessage;
}

const WIRE_TYPES: Readonly<Record<FieldKind, WireTypeCode>> = {
  double: WireType.FIXED64,
  float: WireType.FIXED32,
  int64: WireType.VARINT,
  uint64: WireType.VARINT,
  int32: WireType.VARINT,
  fixed64: WireType.FIXED64,
  fixed32: WireType.FIXED32,
  bool: WireType.VARINT,
  string: WireType.LENGTH_DELIMITED,
  bytes: WireType.LENGTH_DELIMITED,
  uint32: WireType.VARINT,
  sfixed32: WireType.FIXED32,
  sfixed64: WireType.FIXED64,
  sint32: WireType.VARINT,
  sint64: WireType.VARINT,
  enum: WireType.VARINT,
  message: WireType.LENGTH_DELIMITED,
};

/** Compiled once per schema object; schemas are immutable data. */
const compiledSchemas = new WeakMap<ProtoSchema, CompiledSchema>();

function compiledSchema(schema: ProtoSchema): CompiledSchema {
  let compiled = compiledSchemas.get(schema);
  if (compiled === undefined) {
    compiled = compileSchema(schema);
    compiledSchemas.set(schema, compiled);
  }
  return compiled;
}

function compileSchema(schema: ProtoSchema): CompiledSchema {
  const enums = new Map<string, CompiledEnum>();
  for (const [name, enumSchema] of Object.entries(schema.enums))
    enums.set(name, compileEnum(name, enumSchema));
  const messages = new Map<string, CompiledMessage>();
  for (const [name, messageSchema] of Object.entries(schema.messages)) {
    messages.set(name, compileMessage(name, messageSchema));
  }
  for (const message of messages.values()) {
    for (const field of message.fields) {
      const typeName = field.schema.typeName;
      if (field.kind === 'message') {
        field.message = typeName === undefined ? undefined : messages.get(typeName);
        if (field.message === undefined) {
          throw new Error(`schema: ${message.name}.${field.name} names unknown message ${String(typeName)}`);
        }
      } else if (field.kind === 'enum') {
        field.enum = typeName === undefined ? undefined : enums.get(typeName);
        if (field.enum === undefined) {
          throw new Error(`schema: ${message.name}.${field.name} names unknown enum ${String(typeName)}`);
        }
      }
    }
  }
  return {
    message(name) {
      const message = messages.get(name);
      if (message === undefined) throw new Error(`schema has no message ${name}`);
      return message;
    },
  };
}

function compileEnum(name: string, enumSchema: EnumSchema): CompiledEnum {
  const numbersByName = new Map(Object.entries(enumSchema.values));
  const namesByNumber = new Map<number, string>();
  for (const [valueName, number] of numbersByName) {
    if (!namesByNumber.has(number)) namesByNumber.set(number, valueName);
  }
  return { name, numbersByName, namesByNumber };
}

function compileMessage(name: string, messageSchema: MessageSchema): CompiledMessage {
  const fields = messageSchema.fields.map((schema, index): CompiledField => {
    const kind = schema.type;
    if (!(kind in WIRE_TYPES)) throw new Error(`schema: ${name}.${schema.name} has unknown type ${kind}`);
    const wireType = WIRE_TYPES[kind];
    return {
      schema,
      name: schema.name,
      kind,
      index,
      wireType,
      packed: schema.repeated && wireType !== WireType.LENGTH_DELIMITED,
      oneof: schema.oneof,
      message: undefined,
      enum: undefined,
    };
  });
  const fieldsByNumber = new Map<number, CompiledField>();
  const fieldsByJsonKey = new Map<string, CompiledField>();
  for (const field of fields) {
    if (fieldsByNumber.has(field.schema.number)) {
      throw new Error(`schema: ${name} uses field number ${field.schema.number} twice`);
    }
    fieldsByNumber.set(field.schema.number, field);
    for (const key of [field.schema.name, field.schema.jsonName]) {
      const other = fieldsByJsonKey.get(key);
      if (other !== undefined && other !== field)
        throw new Error(`schema: ${name} has two fields called ${key}`);
      fieldsByJsonKey.set(key, field);
    }
  }
  const fieldsInNumberOrder = [...fields].sort((a, b) => a.schema.number - b.schema.number);
  return { name, fields, fieldsInNumberOrder, fieldsByNumber, fieldsByJsonKey };
}

// ---- JSON -> binary ----

interface JsonEncoder {
  readonly maxDepth: number;
  readonly maxBytes: number;
}

function encodeMessage(
  encoder: JsonEncoder,
  message: CompiledMessage,
  json: unknown,
  path: string,
  depth: number,
): Uint8Array {
  if (!isJsonObject(json)) {
    throw new ProtoJsonError(path, `expected a JSON object for ${message.name}, got ${describeJson(json)}`);
  }
  const given = new Map<CompiledField, { readonly key: string; readonly value: unknown }>();
  const oneofKeys = new Map<string, string>();
  for (const key of Object.keys(json)) {
    const value = json[key];
    // JSON has no undefined; a JavaScript caller's undefined property is no property.
    if (value === undefined) continue;
    const fieldPath = joinPath(path, key);
    const field = message.fieldsByJsonKey.get(key);
    if (field === undefined) {
      const shownKey = quoteForError(key);
      throw new ProtoJsonError(
        joinPath(path, shownKey.slice(1, -1)),
        `unknown field ${shownKey} in ${message.name}`,
      );
    }
    const earlier = given.get(field);
    if (earlier !== undefined) {
      throw new ProtoJsonError(
        fieldPath,
        `field ${field.name} is given twice ("${earlier.key}" and "${key}")`,
      );
    }
    given.set(field, { key, value });
    if (field.oneof !== undefined && value !== null) {
      const other = oneofKeys.get(field.oneof);
      if (other !== undefined) {
        throw new ProtoJsonError(
          fieldPath,
          `oneof ${field.oneof} takes one field, but "${other}" is set too`,
        );
      }
      oneofKeys.set(field.oneof, key);
    }
  }
  const writer = new WireWriter();
  for (const field of message.fieldsInNumberOrder) {
    const entry = given.get(field);
    if (entry === undefined || entry.value === null) continue;
    const fieldPath = joinPath(path, entry.key);
    if (field.schema.repeated) encodeRepeated(encoder, writer, field, entry.value, fieldPath, depth);
    else if (field.kind === 'message') {
      const nested = encodeNested(encoder, field, entry.value, fieldPath, depth);
      writer.tag(field.schema.number, WireType.LENGTH_DELIMITED);
      writer.lengthDelimited(nested);
    } else {
      const value = jsonToScalar(field, entry.value, fieldPath);
      // A oneof member is written even at its default: being set is what it says.
      if (field.oneof !== undefined || !isDefaultScalar(value)) {
        writer.tag(field.schema.number, field.wireType);
        writeScalar(writer, field.kind, value);
      }
    }
    if (writer.byteLength > encoder.maxBytes) {
      throw new ProtoJsonError(fieldPath, `the encoded message would exceed ${encoder.maxBytes} bytes`);
    }
  }
  return writer.finish();
}

function encodeNested(
  encoder: JsonEncoder,
  field: CompiledField,
  json: unknown,
  path: string,
  depth: number,
): Uint8Array {
  if (depth + 1 > encoder.maxDepth) {
    throw new ProtoJsonError(path, `messages are nested deeper than ${encoder.maxDepth}`);
  }
  return encodeMessage(encoder, field.message!, json, path, depth + 1);
}

function encodeRepeated(
  encoder: JsonEncoder,
  writer: WireWriter,
  field: CompiledField,
  json: unknown,
  path: string,
  depth: number,
): void {
  if (!Array.isArray(json))
    throw new ProtoJsonError(path, `expected a JSON array, got ${describeJson(json)}`);
  const packed = field.packed ? new WireWriter() : undefined;
  for (let index = 0; index < json.length; index++) {
    const element: unknown = json[index];
    const elementPath = `${path}[${index}]`;
    if (element === null) throw new ProtoJsonError(elementPath, 'null is not allowed in a repeated field');
    if (field.kind === 'message') {
      const nested = encodeNested(encoder, field, element, elementPath, depth);
      writer.tag(field.schema.number, WireType.LENGTH_DELIMITED);
      writer.lengthDelimited(nested);
    } else if (packed !== undefined) {
      writeScalar(packed, field.kind, jsonToScalar(field, element, elementPath));
    } else {
      writer.tag(field.schema.number, field.wireType);
      writeScalar(writer, field.kind, jsonToScalar(field, element, elementPath));
    }
    if (writer.byteLength + (packed?.byteLength ?? 0) > encoder.maxBytes) {
      throw new ProtoJsonError(elementPath, `the encoded message would exceed ${encoder.maxBytes} bytes`);
    }
  }
  if (packed !== undefined && packed.byteLength > 0) {
    writer.tag(field.schema.number, WireType.LENGTH_DELIMITED);
    writer.lengthDelimited(packed.finish());
  }
}

/** A scalar as it goes on the wire: bigint for 64-bit integers, bytes for strings and bytes. */
type ScalarValue = number | bigint | boolean | Uint8Array;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

const INTEGER_RANGES = {
  int64: [INT64_MIN, INT64_MAX],
  sint64: [INT64_MIN, INT64_MAX],
  sfixed64: [INT64_MIN, INT64_MAX],
  uint64: [0n, UINT64_MAX],
  fixed64: [0n, UINT64_MAX],
  int32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  sint32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  sfixed32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  uint32: [0n, BigInt(UINT32_MAX)],
  fixed32: [0n, BigInt(UINT32_MAX)],
} as const satisfies Partial<Record<ScalarType, readonly [bigint, bigint]>>;

type IntegerType = keyof typeof INTEGER_RANGES;
type SixtyFourBitType = 'int64' | 'sint64' | 'sfixed64' | 'uint64' | 'fixed64';

const SIXTY_FOUR_BIT_TYPES: ReadonlySet<FieldKind> = new Set<SixtyFourBitType>([
  'int64',
  'sint64',
  'sfixed64',
  'uint64',
  'fixed64',
]);

/** Longer digit strings cannot be in range; refusing them first keeps BigInt parsing cheap. */
const INTEGER_STRING_LENGTH_MAX = 32;
const INTEGER_STRING = /^-?\d+$/;
const JSON_NUMBER_STRING = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const BASE64_STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8Encoder = new TextEncoder();

function jsonToScalar(field: CompiledField, json: unknown, path: string): ScalarValue {
  const kind = field.kind;
  switch (kind) {
    case 'bool':
      if (typeof json !== 'boolean')
        throw new ProtoJsonError(path, `expected true or false, got ${describeJson(json)}`);
      return json;
    case 'string':
      if (typeof json !== 'string')
        throw new ProtoJsonError(path, `expected a JSON string, got ${describeJson(json)}`);
      if (LONE_SURROGATE.test(json))
        throw new ProtoJsonError(path, 'string is not valid Unicode (lone surrogate)');
      return utf8Encoder.encode(json);
    case 'bytes':
      return jsonToBytes(json, path);
    case 'double':
    case 'float':
      return jsonToFloat(kind, json, path);
    case 'enum':
      return jsonToEnum(field.enum!, json, path);
    case 'message':
      throw new Error('message fields are not scalars');
    default: {
      const value = jsonToInteger(kind, json, path);
      return SIXTY_FOUR_BIT_TYPES.has(kind) ? value : Number(value);
    }
  }
}

function jsonToInteger(type: IntegerType, json: unknown, path: string): bigint {
  let value: bigint;
  if (typeof json === 'bigint') value = json;
  else if (typeof json === 'number') {
    if (!Number.isInteger(json)) throw new ProtoJsonError(path, `${type} must be an integer, got ${json}`);
    if (!Number.isSafeInteger(json) && SIXTY_FOUR_BIT_TYPES.has(type)) {
      // JSON.parse has already rounded it: refuse rather than store a value the client did not send.
      throw new ProtoJsonError(
        path,
        `${json} is beyond 2^53 and inexact as a JSON number; send ${type} values this large as a decimal string`,
      );
    }
    value = Number.isSafeInteger(json) ? BigInt(json) : json > 0 ? UINT64_MAX + 1n : INT64_MIN - 1n;
  } else if (typeof json === 'string') {
    if (json.length > INTEGER_STRING_LENGTH_MAX || !INTEGER_STRING.test(json)) {
      throw new ProtoJsonError(path, `expected a decimal integer for ${type}, got ${quoteForError(json)}`);
    }
    value = BigInt(json);
  } else {
    throw new ProtoJsonError(
      path,
      `expected a JSON number or decimal string for ${type}, got ${describeJson(json)}`,
    );
  }
  const [min, max] = INTEGER_RANGES[type];
  if (value < min || value > max) {
    const shown = typeof json === 'string' ? quoteForError(json) : String(json);
    throw new ProtoJsonError(path, `${shown} is out of range for ${type}`);
  }
  return value;
}

function jsonToFloat(type: 'double' | 'float', json: unknown, path: string): number {
  let value: number;
  if (typeof json === 'number') value = json;
  else if (typeof json === 'string') {
    if (json === 'NaN') return Number.NaN;
    if (json === 'Infinity') return Number.POSITIVE_INFINITY;
    if (json === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (!JSON_NUMBER_STRING.test(json)) {
      throw new ProtoJsonError(path, `expected a number for ${type}, got ${quoteForError(json)}`);
    }
    value = Number(json);
  } else {
    throw new ProtoJsonError(path, `expected a JSON number for ${type}, got ${describeJson(json)}`);
  }
  const stored = type === 'float' ? Math.fround(value) : value;
  if (!Number.isFinite(stored)) throw new ProtoJsonError(path, `${String(json)} is out of range for ${type}`);
  return value;
}

function jsonToEnum(enumType: CompiledEnum, json: unknown, path: string): number {
  if (typeof json === 'string') {
    const number = enumType.numbersByName.get(json);
    if (number === undefined) {
      throw new ProtoJsonError(path, `unknown enum value ${quoteForError(json)} for ${enumType.name}`);
    }
    return number;
  }
  if (typeof json === 'number') {
    // proto3 enums are open: a number the schema does not name still goes through, as in Go.
    if (!Number.isInteger(json) || json < INT32_MIN || json > INT32_MAX) {
      throw new ProtoJsonError(path, `enum ${enumType.name} needs a value name or an int32, got ${json}`);
    }
    return json;
  }
  throw new ProtoJsonError(
    path,
    `expected an enum value name of ${enumType.name}, got ${describeJson(json)}`,
  );
}

/** Standard or URL-safe base64, padded or not (as Go's protojson reads it). */
function jsonToBytes(json: unknown, path: string): Uint8Array {
  if (typeof json !== 'string') {
    throw new ProtoJsonError(path, `expected a base64 JSON string, got ${describeJson(json)}`);
  }
  const unpadded = json.replace(/=+$/, '');
  const padding = json.length - unpadded.length;
  const valid =
    (BASE64_STANDARD.test(json) || BASE64_URL_SAFE.test(json)) &&
    unpadded.length % 4 !== 1 &&
    (padding === 0 || json.length % 4 === 0);
  if (!valid) throw new ProtoJsonError(path, `invalid base64 ${quoteForError(json)}`);
  const decoded = Buffer.from(unpadded, 'base64');
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length);
}

function isDefaultScalar(value: ScalarValue): boolean {
  if (value instanceof Uint8Array) return value.length === 0;
  // -0.0 is not the default: its bits differ, and Go writes it.
  return value === false || value === 0n || Object.is(value, 0);
}

function writeScalar(writer: WireWriter, kind: FieldKind, value: ScalarValue): void {
  switch (kind) {
    case 'int64':
    case 'uint64':
      writer.varint64(BigInt.asUintN(64, value as bigint));
      return;
    case 'sint64': {
      const signed = value as bigint;
      writer.varint64(BigInt.asUintN(64, (signed << 1n) ^ (signed >> 63n)));
      return;
    }
    case 'int32':
    case 'enum': {
      // Negative int32s are sign-extended to 64 bits: ten bytes on the wire.
      const number = value as number;
      if (number >= 0) writer.varint32(number);
      else writer.varint64(BigInt.asUintN(64, BigInt(number)));
      return;
    }
    case 'uint32':
      writer.varint32(value as number);
      return;
    case 'sint32': {
      const number = value as number;
      writer.varint32(((number << 1) ^ (number >> 31)) >>> 0);
      return;
    }
    case 'bool':
      writer.varint32(value ? 1 : 0);
      return;
    case 'fixed64':
    case 'sfixed64':
      writer.fixed64(value as bigint);
      return;
    case 'fixed32':
    case 'sfixed32':
      writer.fixed32(value as number);
      return;
    case 'double':
      writer.float64(value as number);
      return;
    case 'float':
      writer.float32(value as number);
      return;
    case 'string':
    case 'bytes':
      writer.lengthDelimited(value as Uint8Array);
      return;
    case 'message':
      throw new Error('message fields are not scalars');
  }
}

// ---- binary -> JSON ----

/** A message being decoded: one slot per field; repeated fields hold arrays, messages their state. */
interface DecodedMessage {
  readonly values: unknown[];
  /** The member each oneof holds: setting another clears it, as protobuf runtimes do. */
  readonly oneofCases: Map<string, CompiledField>;
}

function emptyState(message: CompiledMessage): DecodedMessage {
  return { values: new Array(message.fields.length).fill(undefined), oneofCases: new Map() };
}

function decodeInto(
  maxDepth: number,
  message: CompiledMessage,
  state: DecodedMessage,
  reader: WireReader,
  path: string,
  depth: number,
): void {
  while (!reader.done()) {
    const tag = reader.tag();
    const field = message.fieldsByNumber.get(tag >>> 3);
    if (field === undefined) {
      reader.skip(tag);
      continue;
    }
    const wireType = tag & 7;
    const fieldPath = joinPath(path, field.name);
    if (field.packed && wireType === WireType.LENGTH_DELIMITED) {
      const { start, end } = reader.lengthDelimited();
      const elements = repeatedSlot(state, field);
      const packed = reader.slice(start, end);
      while (!packed.done()) elements.push(readScalar(packed, field.kind, fieldPath));
      continue;
    }
    if (wireType !== field.wireType) {
      // A known number with the wrong wire type is an unknown field to protobuf runtimes.
      reader.skip(tag);
      continue;
    }
    if (field.kind === 'message') {
      const { start, end } = reader.lengthDelimited();
      if (depth + 1 > maxDepth) {
        throw new ProtoDecodeError(`${fieldPath}: messages are nested deeper than ${maxDepth}`, start);
      }
      const nestedMessage = field.message!;
      if (field.schema.repeated) {
        const elements = repeatedSlot(state, field);
        const nested = emptyState(nestedMessage);
        decodeInto(
          maxDepth,
          nestedMessage,
          nested,
          reader.slice(start, end),
          `${fieldPath}[${elements.length}]`,
          depth + 1,
        );
        elements.push(nested);
      } else {
        selectOneofMember(state, field);
        // A message field seen twice is merged, as protobuf parsers do.
        const nested = (state.values[field.index] as DecodedMessage | undefined) ?? emptyState(nestedMessage);
        state.values[field.index] = nested;
        decodeInto(maxDepth, nestedMessage, nested, reader.slice(start, end), fieldPath, depth + 1);
      }
      continue;
    }
    const value = readScalar(reader, field.kind, fieldPath);
    if (field.schema.repeated) repeatedSlot(state, field).push(value);
    else {
      selectOneofMember(state, field);
      state.values[field.index] = value;
    }
  }
}

function repeatedSlot(state: DecodedMessage, field: CompiledField): unknown[] {
  let elements = state.values[field.index] as unknown[] | undefined;
  if (elements === undefined) {
    elements = [];
    state.values[field.index] = elements;
  }
  return elements;
}

function selectOneofMember(state: DecodedMessage, field: CompiledField): void {
  if (field.oneof === undefined) return;
  const current = state.oneofCases.get(field.oneof);
  if (current !== undefined && current !== field) state.values[current.index] = undefined;
  state.oneofCases.set(field.oneof, field);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function readScalar(reader: WireReader, kind: FieldKind, path: string): ScalarValue | string {
  switch (kind) {
    case 'int64':
      return BigInt.asIntN(64, reader.varint());
    case 'uint64':
      return reader.varint();
    case 'sint64': {
      const raw = reader.varint();
      return (raw >> 1n) ^ -(raw & 1n);
    }
    case 'int32':
    case 'enum':
      return Number(BigInt.asIntN(32, reader.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, reader.varint()));
    case 'sint32': {
      const raw = Number(BigInt.asUintN(32, reader.varint()));
      return (raw >>> 1) ^ -(raw & 1);
    }
    case 'bool':
      return reader.varint() !== 0n;
    case 'fixed64':
      return reader.fixed64();
    case 'sfixed64':
      return BigInt.asIntN(64, reader.fixed64());
    case 'fixed32':
      return reader.fixed32();
    case 'sfixed32':
      return reader.fixed32() | 0;
    case 'double':
      return reader.float64();
    case 'float':
      return reader.float32();
    case 'string': {
      const at = reader.offset;
      const { start, end } = reader.lengthDelimited();
      try {
        return utf8Decoder.decode(reader.copy(start, end));
      } catch {
        throw new ProtoDecodeError(`${path}: string is not valid UTF-8`, at);
      }
    }
    case 'bytes': {
      const { start, end } = reader.lengthDelimited();
      return reader.copy(start, end);
    }
    case 'message':
      throw new Error('message fields are not scalars');
  }
}

function render(message: CompiledMessage, state: DecodedMessage): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const field of message.fields) {
    const value = state.values[field.index];
    if (value === undefined) continue;
    if (field.schema.repeated) {
      const elements = value as unknown[];
      if (elements.length > 0) json[field.name] = elements.map((element) => renderValue(field, element));
      continue;
    }
    const isSetOneofMember = field.oneof !== undefined && state.oneofCases.get(field.oneof) === field;
    if (field.kind !== 'message' && !isSetOneofMember && isDecodedDefault(value)) continue;
    json[field.name] = renderValue(field, value);
  }
  return json;
}

function isDecodedDefault(value: unknown): boolean {
  return value === '' || isDefaultScalar(value as ScalarValue);
}

function renderValue(field: CompiledField, value: unknown): unknown {
  switch (field.kind) {
    case 'message':
      return render(field.message!, value as DecodedMessage);
    case 'enum':
      return field.enum!.namesByNumber.get(value as number) ?? value;
    case 'bytes': {
      const bytes = value as Uint8Array;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
    }
    case 'double':
      return renderFloat(value as number, (number) => number);
    case 'float':
      return renderFloat(value as number, shortestFloat32);
    default:
      // 64-bit integers are bigints here and go out as decimal strings.
      return typeof value === 'bigint' ? value.toString() : value;
  }
}

/** NaN and the infinities have no JSON number: protojson writes them as strings. */
function renderFloat(value: number, finite: (value: number) => number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return finite(value);
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612), as Go prints it. */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}

// ---- helpers ----

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${quoteForError(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const QUOTED_LENGTH_MAX = 64;

/** A string for an error message, cut short: error messages go back to clients and into logs. */
function quoteForError(text: string): string {
  return JSON.stringify(text.length > QUOTED_LENGTH_MAX ? `${text.slice(0, QUOTED_LENGTH_MAX)}…` : text);
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
