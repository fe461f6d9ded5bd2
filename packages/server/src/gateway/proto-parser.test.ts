// The .proto parser: protoc's name resolution, JSON names, what it keeps of each declaration, and
// a file:line:column error for everything outside the supported subset or that protoc refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtoParseError, type ProtoSchema, parseProtoFiles, protoJsonName } from './proto-parser.js';

const HEADER = 'syntax = "proto3";\n';

function parseOne(text: string, name = 'test.proto'): ProtoSchema {
  return parseProtoFiles([{ name, text }]);
}

function fieldOf(schema: ProtoSchema, message: string, field: string) {
  const found = schema.messages[message]?.fields.find((candidate) => candidate.name === field);
  assert.ok(found, `${message}.${field} exists`);
  return found;
}

/** Asserts that parsing fails at `line` with a message matching `problem`. */
function assertParseError(
  files: { name: string; text: string }[],
  where: { file: string; line: number },
  problem: RegExp,
): void {
  assert.throws(
    () => parseProtoFiles(files),
    (error: unknown) => {
      assert.ok(error instanceof ProtoParseError, `expected a ProtoParseError, got ${String(error)}`);
      assert.equal(error.file, where.file);
      assert.equal(error.line, where.line, error.message);
      assert.match(error.message, new RegExp(`^${where.file}:${where.line}:\\d+: `));
      assert.match(error.message, problem);
      return true;
    },
  );
}

describe('proto parser: what it reads', () => {
  test('fields keep their name as written, protoc JSON name, number, type and oneof', () => {
    const schema = parseOne(`${HEADER}
      package p;
      message M {
        bytes range_end = 2;   // trailing comment
        repeated string peerURLs = 3;
        uint64 ID = 1;
        /* a block comment
           over two lines */
        oneof choice {
          int64 version = 4;
          bytes value = 7;
        }
        sint64 s = 5; fixed64 f = 6; double d = 8; float fl = 9; sfixed32 sf = 10; bool b = 11;
      }`);
    assert.deepEqual(schema.messages['p.M']?.fields.slice(0, 5), [
      { name: 'range_end', jsonName: 'rangeEnd', number: 2, type: 'bytes', repeated: false },
      { name: 'peerURLs', jsonName: 'peerURLs', number: 3, type: 'string', repeated: true },
      { name: 'ID', jsonName: 'ID', number: 1, type: 'uint64', repeated: false },
      { name: 'version', jsonName: 'version', number: 4, type: 'int64', repeated: false, oneof: 'choice' },
      { name: 'value', jsonName: 'value', number: 7, type: 'bytes', repeated: false, oneof: 'choice' },
    ]);
    assert.deepEqual(
      schema.messages['p.M']?.fields.slice(5).map((field) => field.type),
      ['sint64', 'fixed64', 'double', 'float', 'sfixed32', 'bool'],
    );
  });

  test('JSON names follow protoc: drop each underscore and upper-case what follows, nothing else', () => {
    assert.equal(protoJsonName('range_end'), 'rangeEnd');
    assert.equal(protoJsonName('min_mod_revision'), 'minModRevision');
    assert.equal(protoJsonName('peerURLs'), 'peerURLs');
    assert.equal(protoJsonName('ID'), 'ID');
    assert.equal(protoJsonName('a__b'), 'aB');
    assert.equal(protoJsonName('trailing_'), 'trailing');
  });

  test('enums keep their values in order; services their methods with streaming flags', () => {
    const schema = parseOne(`${HEADER}
      package svc;
      enum Color { RED = 0; GREEN = 1; BLUE = -3; }
      message Req {}
      message Res {}
      service S {
        rpc Unary(Req) returns (Res);
        rpc Up(stream Req) returns (Res) {}
        rpc Down(Req) returns (stream Res);
        rpc Both(stream .svc.Req) returns (stream svc.Res);
      }`);
    assert.deepEqual(schema.enums['svc.Color'], { values: { RED: 0, GREEN: 1, BLUE: -3 } });
    const io = { input: 'svc.Req', output: 'svc.Res' };
    assert.deepEqual(schema.services['svc.S'], {
      Unary: { ...io, clientStreaming: false, serverStreaming: false },
      Up: { ...io, clientStreaming: true, serverStreaming: false },
      Down: { ...io, clientStreaming: false, serverStreaming: true },
      Both: { ...io, clientStreaming: true, serverStreaming: true },
    });
  });

  test('file options, reserved ranges and names, empty statements and hex/octal numbers are accepted', () => {
    const schema = parseOne(`${HEADER}
      option go_package = "example.com/p" "b";
      option (my.custom).flag = -1;
      package p;;
      message M {
        reserved 2, 9 to 11, 100 to max;
        reserved "old", "older";
        int64 a = 0x1;
        int64 b = 014;
      }
      enum E { reserved 5; reserved "GONE"; ZERO = 0; }`);
    assert.deepEqual(
      schema.messages['p.M']?.fields.map((field) => field.number),
      [1, 12],
    );
  });
});

describe('proto parser: type names resolve as protoc resolves them', () => {
  const files = [
    {
      name: 'dir/kv.proto',
      text: `${HEADER}package mvccpb;\nmessage KeyValue { bytes key = 1; }\n`,
    },
    {
      name: 'other/rpc.proto',
      text: `${HEADER}
        package etcdserverpb;
        import "kv.proto";
        message KeyValue { string shadow = 1; }
        message RangeRequest {
          enum SortOrder { NONE = 0; }
          SortOrder sort_order = 1;
        }
        message RangeResponse {
          repeated mvccpb.KeyValue kvs = 1;
          KeyValue own = 2;
          .mvccpb.KeyValue absolute = 3;
          RangeRequest.SortOrder order = 4;
          message Inner { KeyValue nearest = 1; message KeyValue {} }
        }`,
    },
  ];
  const schema = parseProtoFiles(files);

  test('another package by its name; the nearest scope first for plain names', () => {
    assert.equal(fieldOf(schema, 'etcdserverpb.RangeResponse', 'kvs').typeName, 'mvccpb.KeyValue');
    assert.equal(fieldOf(schema, 'etcdserverpb.RangeResponse', 'own').typeName, 'etcdserverpb.KeyValue');
    assert.equal(
      fieldOf(schema, 'etcdserverpb.RangeResponse.Inner', 'nearest').typeName,
      'etcdserverpb.RangeResponse.Inner.KeyValue',
    );
  });

  test('a leading dot is fully qualified; a dotted name continues from its first part', () => {
    assert.equal(fieldOf(schema, 'etcdserverpb.RangeResponse', 'absolute').typeName, 'mvccpb.KeyValue');
    const order = fieldOf(schema, 'etcdserverpb.RangeResponse', 'order');
    assert.equal(order.type, 'enum');
    assert.equal(order.typeName, 'etcdserverpb.RangeRequest.SortOrder');
    assert.equal(fieldOf(schema, 'etcdserverpb.RangeRequest', 'sort_order').typeName, order.typeName);
  });

  test('a dotted name whose first part is found in an inner scope does not look further out', () => {
    // As in protoc: `pkg.T` inside M finds M.pkg first, and M.pkg has no T.
    assertParseError(
      [
        {
          name: 'a.proto',
          text: `${HEADER}package pkg;\nmessage T {}\nmessage M {\n message pkg {}\n pkg.T t = 1;\n}`,
        },
      ],
      { file: 'a.proto', line: 6 },
      /unknown type "pkg\.T"/,
    );
  });

  test('a nested package is reachable by its inner name from inside the outer package', () => {
    const nested = parseProtoFiles([
      { name: 'x.proto', text: `${HEADER}package a.b;\nmessage T {}\n` },
      { name: 'y.proto', text: `${HEADER}package a;\nimport "x.proto";\nmessage U { b.T t = 1; }\n` },
    ]);
    assert.equal(fieldOf(nested, 'a.U', 't').typeName, 'a.b.T');
  });
});

describe('proto parser: errors name the file and line', () => {
  const cases: { name: string; text: string; line: number; problem: RegExp }[] = [
    { name: 'no syntax', text: 'package p;\n', line: 1, problem: /must start with syntax = "proto3"/ },
    { name: 'proto2', text: 'syntax = "proto2";\n', line: 1, problem: /syntax "proto2" is not supported/ },
    {
      name: 'map field',
      text: `${HEADER}message M {\n  map<string, int64> m = 1;\n}`,
      line: 3,
      problem: /map fields are not supported/,
    },
    {
      name: 'message option',
      text: `${HEADER}message M {\n  option deprecated = true;\n}`,
      line: 3,
      problem: /options are not supported \(in message M\)/,
    },
    {
      name: 'field option',
      text: `${HEADER}message M {\n  int64 a = 1 [json_name = "b"];\n}`,
      line: 3,
      problem: /field options are not supported/,
    },
    {
      name: 'proto3 optional',
      text: `${HEADER}message M {\n  optional int64 a = 1;\n}`,
      line: 3,
      problem: /proto3 "optional" fields are not supported/,
    },
    {
      name: 'extensions',
      text: `${HEADER}message M {\n  extensions 100 to 200;\n}`,
      line: 3,
      problem: /extension ranges are not supported/,
    },
    {
      name: 'rpc options',
      text: `${HEADER}message R {}\nservice S {\n  rpc A(R) returns (R) {\n    option (google.api.http) = { post: "/v3/a" };\n  }\n}`,
      line: 5,
      problem: /options are not supported \(in rpc A\)/,
    },
    {
      name: 'import public',
      text: `${HEADER}import public "x.proto";\n`,
      line: 2,
      problem: /"import public" is not supported/,
    },
    {
      name: 'unknown type',
      text: `${HEADER}package p;\nmessage M {\n  Missing m = 1;\n}`,
      line: 4,
      problem: /unknown type "Missing" \(looked up from p\.M\)/,
    },
    {
      name: 'missing import',
      text: `${HEADER}import "nowhere.proto";\n`,
      line: 2,
      problem: /imported file "nowhere\.proto" is not among the files given/,
    },
    {
      name: 'duplicate field number',
      text: `${HEADER}message M {\n  int64 a = 1;\n  int64 b = 1;\n}`,
      line: 4,
      problem: /field number 1 is already used by a in M/,
    },
    {
      name: 'duplicate name',
      text: `${HEADER}message M {}\n\nmessage M {}`,
      line: 4,
      problem: /"M" is already defined \(as a message at test\.proto:2:1\)/,
    },
    {
      name: 'enum value names share the enclosing scope',
      text: `${HEADER}enum A { NONE = 0; }\nenum B { NONE = 0; }`,
      line: 3,
      problem: /"NONE" is already defined/,
    },
    {
      name: 'first enum value not zero',
      text: `${HEADER}enum E {\n  ONE = 1;\n}`,
      line: 3,
      problem: /first value of proto3 enum E must be 0/,
    },
    {
      name: 'enum alias',
      text: `${HEADER}enum E {\n  A = 0;\n  B = 0;\n}`,
      line: 4,
      problem: /B repeats the number 0 of A/,
    },
    {
      name: 'reserved number',
      text: `${HEADER}message M {\n  reserved 3 to 5;\n  int64 a = 4;\n}`,
      line: 4,
      problem: /field number 4 is reserved in M/,
    },
    {
      name: 'JSON name clash',
      text: `${HEADER}message M {\n  int64 foo_bar = 1;\n  int64 fooBar = 2;\n}`,
      line: 4,
      problem: /both answer to the JSON name "fooBar"/,
    },
    {
      name: 'protobuf-reserved field number',
      text: `${HEADER}message M {\n  int64 a = 19500;\n}`,
      line: 3,
      problem: /reserved by protobuf/,
    },
    {
      name: 'field number 0',
      text: `${HEADER}message M {\n  int64 a = 0;\n}`,
      line: 3,
      problem: /field number 0 is outside/,
    },
    {
      name: 'empty oneof',
      text: `${HEADER}message M {\n  oneof o {}\n}`,
      line: 3,
      problem: /oneof o has no fields/,
    },
    {
      name: 'rpc taking an enum',
      text: `${HEADER}enum E { Z = 0; }\nmessage R {}\nservice S {\n  rpc A(E) returns (R);\n}`,
      line: 5,
      problem: /input of rpc A must be a message, not enum E/,
    },
    {
      name: 'a field used as a type',
      text: `${HEADER}message M {\n  int64 a = 1;\n  M.a b = 2;\n}`,
      line: 4,
      problem: /"M\.a" resolves to M\.a, which is a field, not a type/,
    },
    {
      name: 'line numbers survive block comments',
      text: `${HEADER}/* one\n two\n three */ message M {\n  int64 a = 1\n}`,
      line: 6,
      problem: /expected ";", found "}"/,
    },
    { name: 'unclosed comment', text: `${HEADER}/* forever`, line: 2, problem: /comment is not closed/ },
    {
      name: 'stray character',
      text: `${HEADER}message M { int64 a = 1; } @`,
      line: 2,
      problem: /unexpected character "@"/,
    },
    {
      name: 'identifier starting with an underscore',
      text: `${HEADER}message M {\n  int64 _hidden = 1;\n}`,
      line: 3,
      problem: /unexpected character "_"/,
    },
  ];
  for (const { name, text, line, problem } of cases) {
    test(name, () => assertParseError([{ name: 'test.proto', text }], { file: 'test.proto', line }, problem));
  }

  test('a type from a file that is not imported is refused, saying where it is', () => {
    assertParseError(
      [
        { name: 'a/kv.proto', text: `${HEADER}package mvccpb;\nmessage KeyValue {}\n` },
        {
          name: 'b/rpc.proto',
          text: `${HEADER}package etcdserverpb;\nmessage R {\n  mvccpb.KeyValue kv = 1;\n}`,
        },
      ],
      { file: 'b/rpc.proto', line: 4 },
      /is mvccpb\.KeyValue, defined in a\/kv\.proto, which b\/rpc\.proto does not import/,
    );
  });

  test('an import matching two files is ambiguous', () => {
    assertParseError(
      [
        { name: 'a/kv.proto', text: `${HEADER}package a;\n` },
        { name: 'b/kv.proto', text: `${HEADER}package b;\n` },
        { name: 'c.proto', text: `${HEADER}\nimport "kv.proto";\n` },
      ],
      { file: 'c.proto', line: 3 },
      /import "kv\.proto" is ambiguous: a\/kv\.proto, b\/kv\.proto/,
    );
  });
});
