// Payload codecs of the peer protocol: a batch of Raft messages, and the hello handshake.
//
// A raft batch is   varuint messageCount, message*
// every message is  u8 typeCode, strref group, strref from, strref to, varuint term, body
// A strref is a varuint k: 0 introduces a new string (length-prefixed UTF-8) that later
// messages of the same batch refer to as k = its position + 1. Group and node ids repeat in
// nearly every message, so a batch of heartbeats is mostly small integers.
// Bodies follow the field order of the types in @synod/raft (see README.md for the table).
// Entry indexes are not sent: they follow from prevLogIndex, so non-consecutive entries cannot
// even be expressed. Fields that may be −1 are sent as value + 1.
//
// The decoder is the validator: it builds each message field by field from a fixed schema, so
// what it returns has exactly the fields and types of the Message union, within the limits below.
import type {
  ConfState,
  Entry,
  EntryKind,
  GroupId,
  Message,
  MessageType,
  NodeId,
  SnapshotMetadata,
} from '@synod/raft';
import { HELLO_PAYLOAD_BYTES_MAX } from './frame.js';
import { FrameError, invariant } from './frame-error.js';
import { ByteReader, ByteWriter } from './wire-bytes.js';

/** Messages in one raft-batch frame. */
export const MESSAGES_PER_BATCH_MAX = 65_536;
/** Distinct strings in one batch (group ids, node ids, read contexts). */
export const STRINGS_PER_BATCH_MAX = 65_536;
/** UTF-8 bytes of a node, group or cluster id. */
export const ID_BYTES_MAX = 256;
/** UTF-8 bytes of a ReadIndex context. */
export const READ_CONTEXT_BYTES_MAX = 1024;
/** Entries in one append or propose message (Raft's own default is 512). */
export const ENTRIES_PER_MESSAGE_MAX = 65_536;
/** Members in one list of a ConfState. */
export const MEMBERS_PER_LIST_MAX = 1024;

/** Wire codes of message types. Never renumber: they are the protocol. */
export const MESSAGE_TYPE_CODES = {
  propose: 1,
  append: 2,
  appendResponse: 3,
  vote: 4,
  preVote: 5,
  voteResponse: 6,
  preVoteResponse: 7,
  heartbeat: 8,
  heartbeatResponse: 9,
  snapshot: 10,
  snapshotResponse: 11,
  timeoutNow: 12,
  readIndex: 13,
  readIndexResponse: 14,
} as const satisfies Record<MessageType, number>;

const MESSAGE_TYPE_BY_CODE: readonly (MessageType | undefined)[] = invertCodes();

function invertCodes(): (MessageType | undefined)[] {
  const byCode: (MessageType | undefined)[] = [];
  for (const [type, code] of Object.entries(MESSAGE_TYPE_CODES)) byCode[code] = type as MessageType;
  return byCode;
}

const ENTRY_KIND_CODES = { normal: 0, config: 1 } as const satisfies Record<EntryKind, number>;

/** Bytes a message costs in a batch beyond its payload bytes (ids, numbers): an estimate for accounting. */
const MESSAGE_OVERHEAD_BYTES_ESTIMATE = 48;
/** Bytes an entry costs beyond its data (kind, term, length). */
const ENTRY_OVERHEAD_BYTES_ESTIMATE = 12;

/**
 * Approximate encoded size of a message, for batching and queue accounting (never for safety:
 * the frame encoder checks the exact size).
 */
export function messageBytesEstimate(message: Message): number {
  let bytes = MESSAGE_OVERHEAD_BYTES_ESTIMATE;
  if (message.type === 'append') {
    for (const entry of message.entries) bytes += entry.data.byteLength + ENTRY_OVERHEAD_BYTES_ESTIMATE;
  } else if (message.type === 'propose') {
    for (const data of message.entries) bytes += data.byteLength + ENTRY_OVERHEAD_BYTES_ESTIMATE;
  } else if (message.type === 'snapshot') {
    bytes += message.chunk.byteLength;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Interns strings for one batch: the first use writes the string, later uses write its number. */
class StringTableWriter {
  private readonly numbers = new Map<string, number>();

  write(writer: ByteWriter, value: string): void {
    const number = this.numbers.get(value);
    if (number !== undefined) {
      writer.varuint(number);
      return;
    }
    invariant(this.numbers.size < STRINGS_PER_BATCH_MAX, 'too many distinct strings in one batch');
    this.numbers.set(value, this.numbers.size + 1);
    writer.varuint(0);
    writer.string(value);
  }
}

/**
 * Encodes messages as one raft-batch payload, leaving `headroomBytes` free in front for the
 * frame header. Messages come from our own Raft core, so anything unencodable is a bug (throws).
 *
 * @example
 * const payload = encodeRaftBatch([{ type: 'timeoutNow', group: 'g', from: 'a', to: 'b', term: 3 }]);
 */
export function encodeRaftBatch(messages: readonly Message[], headroomBytes = 0): Buffer {
  invariant(messages.length <= MESSAGES_PER_BATCH_MAX, `batch of ${messages.length} messages`);
  let capacity = headroomBytes + 8;
  for (const message of messages) capacity += messageBytesEstimate(message);
  const writer = new ByteWriter(capacity, headroomBytes);
  const strings = new StringTableWriter();
  writer.varuint(messages.length);
  for (const message of messages) writeMessage(writer, strings, message);
  return writer.finish();
}

function writeMessage(writer: ByteWriter, strings: StringTableWriter, message: Message): void {
  writer.u8(MESSAGE_TYPE_CODES[message.type]);
  strings.write(writer, message.group);
  strings.write(writer, message.from);
  strings.write(writer, message.to);
  writer.varuint(message.term);
  switch (message.type) {
    case 'propose':
      invariant(message.entries.length <= ENTRIES_PER_MESSAGE_MAX, 'too many proposals in one message');
      writer.varuint(message.entries.length);
      for (const data of message.entries) writer.bytes(data);
      return;
    case 'append':
      writeAppendBody(writer, message.prevLogIndex, message.prevLogTerm, message.commit, message.entries);
      return;
    case 'appendResponse':
      writer.bool(message.reject);
      writer.varuint(message.index);
      writer.varuint(message.rejectHint);
      writer.varuint(message.hintTerm);
      return;
    case 'vote':
    case 'preVote':
      writer.varuint(message.lastLogIndex);
      writer.varuint(message.lastLogTerm);
      writer.bool(message.transfer);
      return;
    case 'voteResponse':
    case 'preVoteResponse':
      writer.bool(message.reject);
      return;
    case 'heartbeat':
      writer.varuint(message.commit);
      strings.write(writer, message.context);
      writer.varuint(message.sentTick);
      return;
    case 'heartbeatResponse':
      strings.write(writer, message.context);
      writer.varuint(message.sentTick);
      return;
    case 'snapshot':
      writeSnapshotMetadata(writer, strings, message.metadata);
      writer.varuint(message.offset);
      writer.varuint(message.totalBytes);
      writer.bytes(message.chunk);
      writer.bool(message.done);
      return;
    case 'snapshotResponse':
      writer.varuint(message.snapshotIndex);
      writer.varuint(message.receivedBytes + 1); // −1 rejects the transfer
      writer.bool(message.done);
      return;
    case 'timeoutNow':
      return;
    case 'readIndex':
      strings.write(writer, message.context);
      return;
    case 'readIndexResponse':
      strings.write(writer, message.context);
      writer.varuint(message.index + 1); // −1: the leader could not serve the read
      return;
  }
}

function writeAppendBody(
  writer: ByteWriter,
  prevLogIndex: number,
  prevLogTerm: number,
  commit: number,
  entries: readonly Entry[],
): void {
  invariant(entries.length <= ENTRIES_PER_MESSAGE_MAX, 'too many entries in one append');
  writer.varuint(prevLogIndex);
  writer.varuint(prevLogTerm);
  writer.varuint(commit);
  writer.varuint(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    invariant(entry.index === prevLogIndex + 1 + i, `append entries not consecutive at ${entry.index}`);
    writer.u8(ENTRY_KIND_CODES[entry.kind]);
    writer.varuint(entry.term);
    writer.bytes(entry.data);
  }
}

function writeSnapshotMetadata(
  writer: ByteWriter,
  strings: StringTableWriter,
  metadata: SnapshotMetadata,
): void {
  writer.varuint(metadata.index);
  writer.varuint(metadata.term);
  const conf = metadata.confState;
  for (const members of [conf.voters, conf.votersOutgoing, conf.learners, conf.learnersNext]) {
    invariant(members.length <= MEMBERS_PER_LIST_MAX, 'too many members in a ConfState list');
    writer.varuint(members.length);
    for (const member of members) strings.write(writer, member);
  }
  writer.bool(conf.autoLeave);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads strrefs; each string is decoded (and length-checked) once per batch. */
class StringTableReader {
  private readonly strings: string[] = [];
  private readonly reader: ByteReader;

  constructor(reader: ByteReader) {
    this.reader = reader;
  }

  /** A string of at most `maxBytes`; `nonEmpty` for ids. */
  read(maxBytes: number, what: string, nonEmpty: boolean): string {
    const reader = this.reader;
    const number = reader.varuint();
    let value: string;
    if (number === 0) {
      if (this.strings.length >= STRINGS_PER_BATCH_MAX) reader.fail('too many distinct strings');
      value = reader.string(Math.max(ID_BYTES_MAX, READ_CONTEXT_BYTES_MAX), what);
      this.strings.push(value);
    } else {
      const known = this.strings[number - 1];
      if (known === undefined) return reader.fail(`${what} refers to unknown string ${number}`);
      value = known;
    }
    // Limits hold for every use: one string may serve as a context and then as an id. A UTF-16
    // unit takes at most 3 UTF-8 bytes, so short strings skip the byte count.
    if (value.length * 3 > maxBytes && Buffer.byteLength(value, 'utf8') > maxBytes) {
      reader.fail(`${what} longer than ${maxBytes} bytes`);
    }
    if (nonEmpty && value === '') reader.fail(`${what} is empty`);
    return value;
  }
}

/**
 * Decodes and validates a raft-batch payload. Returns the messages, or a FrameError when
 * anything is out of place: the caller closes the connection and nothing reaches Raft.
 *
 * @example
 * const decoded = decodeRaftBatch(payload);
 * if (decoded instanceof FrameError) closeConnection(decoded.message);
 */
export function decodeRaftBatch(payload: Uint8Array): readonly Message[] | FrameError {
  const reader = new ByteReader(payload);
  try {
    const count = reader.varuintAtMost(MESSAGES_PER_BATCH_MAX, 'message count');
    const strings = new StringTableReader(reader);
    const messages: Message[] = [];
    for (let i = 0; i < count; i++) messages.push(readMessage(reader, strings));
    reader.expectEnd();
    return messages;
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
}

interface Header {
  readonly group: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

function readMessage(reader: ByteReader, strings: StringTableReader): Message {
  const code = reader.u8();
  const type = MESSAGE_TYPE_BY_CODE[code];
  if (type === undefined) return reader.fail(`unknown message type code ${code}`);
  const group = strings.read(ID_BYTES_MAX, 'group', true);
  const from = strings.read(ID_BYTES_MAX, 'from', true);
  const to = strings.read(ID_BYTES_MAX, 'to', true);
  if (from === to) reader.fail(`message from ${from} to itself`);
  const term = reader.varuint();
  const header: Header = { group, from, to, term };
  switch (type) {
    case 'propose':
      return { type, ...header, entries: readProposals(reader) };
    case 'append':
      return readAppend(reader, header);
    case 'appendResponse':
      return {
        type,
        ...header,
        reject: reader.bool(),
        index: reader.varuint(),
        rejectHint: reader.varuint(),
        hintTerm: reader.varuint(),
      };
    case 'vote':
    case 'preVote':
      return {
        type,
        ...header,
        lastLogIndex: reader.varuint(),
        lastLogTerm: reader.varuint(),
        transfer: reader.bool(),
      };
    case 'voteResponse':
    case 'preVoteResponse':
      return { type, ...header, reject: reader.bool() };
    default:
      return readOtherMessage(reader, strings, type, header);
  }
}

function readOtherMessage(
  reader: ByteReader,
  strings: StringTableReader,
  type: Exclude<
    MessageType,
    'propose' | 'append' | 'appendResponse' | 'vote' | 'preVote' | 'voteResponse' | 'preVoteResponse'
  >,
  header: Header,
): Message {
  switch (type) {
    case 'heartbeat':
      return {
        type,
        ...header,
        commit: reader.varuint(),
        context: strings.read(READ_CONTEXT_BYTES_MAX, 'context', false),
        sentTick: reader.varuint(),
      };
    case 'heartbeatResponse':
      return {
        type,
        ...header,
        context: strings.read(READ_CONTEXT_BYTES_MAX, 'context', false),
        sentTick: reader.varuint(),
      };
    case 'snapshot':
      return readSnapshotChunk(reader, strings, header);
    case 'snapshotResponse':
      return {
        type,
        ...header,
        snapshotIndex: reader.varuint(),
        receivedBytes: reader.varuint() - 1,
        done: reader.bool(),
      };
    case 'timeoutNow':
      return { type, ...header };
    case 'readIndex':
      return { type, ...header, context: strings.read(READ_CONTEXT_BYTES_MAX, 'context', false) };
    case 'readIndexResponse':
      return {
        type,
        ...header,
        context: strings.read(READ_CONTEXT_BYTES_MAX, 'context', false),
        index: reader.varuint() - 1,
      };
  }
}

function readProposals(reader: ByteReader): Uint8Array[] {
  const count = reader.varuintAtMost(ENTRIES_PER_MESSAGE_MAX, 'proposal count');
  return reader.bytesCopies(count, 'proposal', () => {});
}

function readAppend(reader: ByteReader, header: Header): Message {
  const prevLogIndex = reader.varuint();
  const prevLogTerm = reader.varuint();
  const commit = reader.varuint();
  const count = reader.varuintAtMost(ENTRIES_PER_MESSAGE_MAX, 'entry count');
  if (prevLogTerm > header.term)
    reader.fail(`prevLogTerm ${prevLogTerm} above the message term ${header.term}`);
  if (!Number.isSafeInteger(prevLogIndex + count)) reader.fail('entry index overflows');
  const kinds: EntryKind[] = [];
  const terms: number[] = [];
  let previousTerm = prevLogTerm;
  const data = reader.bytesCopies(count, 'entry data', () => {
    const kindCode = reader.u8();
    const kind: EntryKind | undefined =
      kindCode === ENTRY_KIND_CODES.normal
        ? 'normal'
        : kindCode === ENTRY_KIND_CODES.config
          ? 'config'
          : undefined;
    if (kind === undefined) return reader.fail(`unknown entry kind ${kindCode}`);
    const term = reader.varuint();
    // A leader's log never goes back in term and never holds a term above the leader's own.
    if (term < previousTerm || term > header.term) reader.fail(`entry term ${term} out of order`);
    previousTerm = term;
    kinds.push(kind);
    terms.push(term);
  });
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++)
    entries.push({ term: terms[i]!, index: prevLogIndex + 1 + i, kind: kinds[i]!, data: data[i]! });
  return { type: 'append', ...header, prevLogIndex, prevLogTerm, entries, commit };
}

function readSnapshotChunk(reader: ByteReader, strings: StringTableReader, header: Header): Message {
  const index = reader.varuint();
  const term = reader.varuint();
  const confState = readConfState(reader, strings);
  const offset = reader.varuint();
  const totalBytes = reader.varuint();
  const chunk = reader.bytesCopy(reader.remaining, 'snapshot chunk');
  const done = reader.bool();
  if (term > header.term) reader.fail(`snapshot term ${term} above the message term ${header.term}`);
  if (offset + chunk.byteLength > totalBytes) reader.fail('snapshot chunk ends beyond totalBytes');
  const metadata: SnapshotMetadata = { index, term, confState };
  return { type: 'snapshot', ...header, metadata, offset, totalBytes, chunk, done };
}

function readConfState(reader: ByteReader, strings: StringTableReader): ConfState {
  const voters = readMembers(reader, strings);
  const votersOutgoing = readMembers(reader, strings);
  const learners = readMembers(reader, strings);
  const learnersNext = readMembers(reader, strings);
  const autoLeave = reader.bool();
  return { voters, votersOutgoing, learners, learnersNext, autoLeave };
}

function readMembers(reader: ByteReader, strings: StringTableReader): NodeId[] {
  const count = reader.varuintAtMost(MEMBERS_PER_LIST_MAX, 'member count');
  const members: NodeId[] = [];
  for (let i = 0; i < count; i++) members.push(strings.read(ID_BYTES_MAX, 'member', true));
  return members;
}

// ---------------------------------------------------------------------------------------------
// Hello: the first frame in each direction of a connection.

/** What a node says about itself when a connection opens. */
export interface Hello {
  readonly protocolVersion: number;
  readonly nodeId: NodeId;
  readonly clusterId: string;
}

export function encodeHello(hello: Hello, headroomBytes = 0): Buffer {
  const writer = new ByteWriter(headroomBytes + 64, headroomBytes);
  writer.varuint(hello.protocolVersion);
  writer.string(hello.nodeId);
  writer.string(hello.clusterId);
  const payloadBytes = writer.length - headroomBytes;
  invariant(payloadBytes <= HELLO_PAYLOAD_BYTES_MAX, 'hello ids too long');
  return writer.finish();
}

export function decodeHello(payload: Uint8Array): Hello | FrameError {
  const reader = new ByteReader(payload);
  try {
    const protocolVersion = reader.varuint();
    const nodeId = reader.string(ID_BYTES_MAX, 'node id');
    const clusterId = reader.string(ID_BYTES_MAX, 'cluster id');
    if (nodeId === '') reader.fail('node id is empty');
    reader.expectEnd();
    return { protocolVersion, nodeId, clusterId };
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
}
