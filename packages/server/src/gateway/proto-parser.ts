// A parser for the proto3 subset Synod's .proto files use, producing a plain-data schema the JSON
// gateway transcodes with (proto-json.ts). Supported: `syntax = "proto3"`, `package`, plain
// `import`, file-level `option` (read and ignored: none changes the wire or JSON form), messages
// with nested messages and enums, scalar/message/enum fields, `repeated`, `oneof`, `reserved`,
// enums, services with (streaming) rpcs, and `//` and `/* */` comments. Anything else (maps,
// proto3 `optional`, field/message/enum/rpc options, extensions, groups, proto2) is refused with
// its file:line:column, rather than read in a way that could change what goes over the wire.
//
// Type names are resolved as protoc does (protobuf.dev/programming-guides/proto3, "Packages and
// Name Resolution"): innermost scope outwards, a dotted name's first part settling the scope, and
// only types of the file itself or of the files it imports are visible.

/** Scalar field types of proto3, by their .proto keyword. */
export type ScalarType =
  | 'double'
  | 'float'
  | 'int64'
  | 'uint64'
  | 'int32'
  | 'fixed64'
  | 'fixed32'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'uint32'
  | 'sfixed32'
  | 'sfixed64'
  | 'sint32'
  | 'sint64';

export interface FieldSchema {
  /** As written in the .proto file (`range_end`, `peerURLs`, `ID`): the gateway's JSON key. */
  readonly name: string;
  /** protoc's JSON name: each `_x` becomes `X`, nothing else changes (`range_end` → `rangeEnd`). */
  readonly jsonName: string;
  readonly number: number;
  readonly type: ScalarType | 'message' | 'enum';
  /** The fully-qualified name of a message or enum type (`mvccpb.KeyValue`). */
  readonly typeName?: string;
  readonly repeated: boolean;
  /** The oneof this field belongs to. */
  readonly oneof?: string;
}

export interface MessageSchema {
  /** In declaration order (the order JSON output follows). */
  readonly fields: readonly FieldSchema[];
}

export interface EnumSchema {
  /** Value names to numbers, in declaration order. */
  readonly values: Readonly<Record<string, number>>;
}

export interface MethodSchema {
  /** Fully-qualified message names. */
  readonly input: string;
  readonly output: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
}

/** Everything the transcoder needs, as plain JSON-able data keyed by fully-qualified names. */
export interface ProtoSchema {
  readonly messages: Readonly<Record<string, MessageSchema>>;
  readonly enums: Readonly<Record<string, EnumSchema>>;
  /** Services (`etcdserverpb.KV`) to their methods (`Range`). */
  readonly services: Readonly<Record<string, Readonly<Record<string, MethodSchema>>>>;
}

export interface ProtoSourceFile {
  /** How errors and imports name the file; imports match it exactly or as a `/`-separated suffix. */
  readonly name: string;
  readonly text: string;
}

/** A .proto file this parser cannot read, or a schema that protoc would refuse. */
export class ProtoParseError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(file: string, position: SourcePosition, problem: string) {
    super(`${file}:${position.line}:${position.column}: ${problem}`);
    this.name = 'ProtoParseError';
    this.file = file;
    this.line = position.line;
    this.column = position.column;
  }
}

export const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>([
  'double',
  'float',
  'int64',
  'uint64',
  'int32',
  'fixed64',
  'fixed32',
  'bool',
  'string',
  'bytes',
  'uint32',
  'sfixed32',
  'sfixed64',
  'sint32',
  'sint64',
]);

/** Field numbers are 29 bits; 19000–19999 belong to the protobuf implementation. */
const FIELD_NUMBER_MAX = 2 ** 29 - 1;
const IMPLEMENTATION_RESERVED_FIRST = 19_000;
const IMPLEMENTATION_RESERVED_LAST = 19_999;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** protoc's JSON name for a field: underscores dropped, each following character upper-cased. */
export function protoJsonName(fieldName: string): string {
  let jsonName = '';
  let capitalizeNext = false;
  for (const character of fieldName) {
    if (character === '_') capitalizeNext = true;
    else if (capitalizeNext) {
      jsonName += character.toUpperCase();
      capitalizeNext = false;
    } else jsonName += character;
  }
  return jsonName;
}

/**
 * Parses .proto files together (imports are looked up among them) and resolves every type name.
 *
 * @example
 * const schema = parseProtoFiles([{ name: 'kv.proto', text }]);
 * schema.messages['mvccpb.KeyValue']?.fields[0]; // { name: 'key', jsonName: 'key', number: 1, type: 'bytes', repeated: false }
 */
export function parseProtoFiles(files: readonly ProtoSourceFile[]): ProtoSchema {
  const parsed = files.map((file) => new FileParser(file.name, file.text).parseFile());
  return new SchemaBuilder(parsed).build();
}

// ---- tokens ----

interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

type TokenKind = 'identifier' | 'number' | 'string' | 'symbol' | 'end';

interface Token extends SourcePosition {
  readonly kind: TokenKind;
  /** The source text; for strings, the decoded value. */
  readonly text: string;
}

const IDENTIFIER = /[A-Za-z][A-Za-z0-9_]*/y;
const NUMBER = /(?:0[xX][0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/y;
const SYMBOLS = new Set(['{', '}', '(', ')', '[', ']', '<', '>', ';', '=', ',', '.', '-', '+', ':']);
const STRING_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

function tokenize(file: string, text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  let line = 1;
  let lineStart = 0;
  const position = (): SourcePosition => ({ line, column: index - lineStart + 1 });
  const fail = (problem: string): never => {
    throw new ProtoParseError(file, position(), problem);
  };
  while (index < text.length) {
    const character = text[index]!;
    if (character === '\n') {
      index++;
      line++;
      lineStart = index;
    } else if (character === ' ' || character === '\t' || character === '\r' || character === '\f') {
      index++;
    } else if (text.startsWith('//', index)) {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
    } else if (text.startsWith('/*', index)) {
      const end = text.indexOf('*/', index + 2);
      if (end === -1) fail('comment is not closed');
      for (let at = index; at < end; at++) {
        if (text[at] === '\n') {
          line++;
          lineStart = at + 1;
        }
      }
      index = end + 2;
    } else if (/[A-Za-z]/.test(character)) {
      IDENTIFIER.lastIndex = index;
      const word = IDENTIFIER.exec(text)![0];
      tokens.push({ kind: 'identifier', text: word, ...position() });
      index += word.length;
    } else if (/[0-9]/.test(character) || (character === '.' && /[0-9]/.test(text[index + 1] ?? ''))) {
      NUMBER.lastIndex = index;
      const literal = NUMBER.exec(text)![0];
      if (/[A-Za-z_]/.test(text[index + literal.length] ?? '')) fail(`malformed number "${literal}…"`);
      tokens.push({ kind: 'number', text: literal, ...position() });
      index += literal.length;
    } else if (character === '"' || character === "'") {
      const start = position();
      let value = '';
      index++;
      for (;;) {
        const next = text[index];
        if (next === undefined || next === '\n') fail('string is not closed on its line');
        index++;
        if (next === character) break;
        if (next !== '\\') {
          value += next;
          continue;
        }
        const escaped = text[index++] ?? '';
        const hex = /^[xX]([0-9A-Fa-f]{1,2})/.exec(text.slice(index - 1, index + 2));
        const octal = /^[0-7]{1,3}/.exec(text.slice(index - 1, index + 2));
        if (escaped in STRING_ESCAPES) value += STRING_ESCAPES[escaped];
        else if (hex !== null) {
          value += String.fromCharCode(Number.parseInt(hex[1]!, 16));
          index += hex[1]!.length;
        } else if (octal !== null) {
          value += String.fromCharCode(Number.parseInt(octal[0], 8));
          index += octal[0].length - 1;
        } else fail(`unknown escape "\\${escaped}" in string`);
      }
      tokens.push({ kind: 'string', text: value, ...start });
    } else if (SYMBOLS.has(character)) {
      tokens.push({ kind: 'symbol', text: character, ...position() });
      index++;
    } else {
      fail(`unexpected character ${JSON.stringify(character)}`);
    }
  }
  tokens.push({ kind: 'end', text: '', ...position() });
  return tokens;
}

// ---- syntax tree of one file ----

interface FileNode {
  readonly name: string;
  readonly packageName: string;
  readonly imports: readonly ImportNode[];
  readonly declarations: readonly (MessageNode | EnumNode)[];
  readonly services: readonly ServiceNode[];
}

interface ImportNode extends SourcePosition {
  readonly path: string;
}

interface ReservedRanges {
  /** Inclusive ranges. */
  readonly numbers: [number, number][];
  readonly names: Set<string>;
}

interface MessageNode extends SourcePosition {
  readonly kind: 'message';
  readonly name: string;
  readonly fields: FieldNode[];
  readonly oneofs: OneofNode[];
  readonly declarations: (MessageNode | EnumNode)[];
  readonly reserved: ReservedRanges;
}

interface FieldNode extends SourcePosition {
  readonly name: string;
  /** A scalar keyword or a type reference as written (`mvccpb.KeyValue`, `.pkg.Type`). */
  readonly typeReference: string;
  readonly repeated: boolean;
  readonly number: number;
  readonly oneof?: string;
}

interface OneofNode extends SourcePosition {
  readonly name: string;
}

interface EnumNode extends SourcePosition {
  readonly kind: 'enum';
  readonly name: string;
  readonly values: EnumValueNode[];
  readonly reserved: ReservedRanges;
}

interface EnumValueNode extends SourcePosition {
  readonly name: string;
  readonly number: number;
}

interface ServiceNode extends SourcePosition {
  readonly name: string;
  readonly methods: MethodNode[];
}

interface MethodNode extends SourcePosition {
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
}

class FileParser {
  private readonly file: string;
  private readonly tokens: Token[];
  private index = 0;

  constructor(file: string, text: string) {
    this.file = file;
    this.tokens = tokenize(file, text);
  }

  parseFile(): FileNode {
    let packageName: string | undefined;
    let sawSyntax = false;
    let sawStatement = false;
    const imports: ImportNode[] = [];
    const declarations: (MessageNode | EnumNode)[] = [];
    const services: ServiceNode[] = [];
    while (this.peek().kind !== 'end') {
      const token = this.peek();
      if (this.acceptSymbol(';')) continue;
      const keyword = this.expectIdentifier('a top-level statement');
      if (keyword.text === 'syntax') {
        if (sawSyntax || sawStatement) this.fail(keyword, '"syntax" must be the first statement');
        this.expectSymbol('=');
        const syntax = this.expectString();
        if (syntax.text !== 'proto3') {
          this.fail(syntax, `syntax "${syntax.text}" is not supported; only "proto3" is`);
        }
        this.expectSymbol(';');
        sawSyntax = true;
        continue;
      }
      if (!sawSyntax) this.fail(token, 'the file must start with syntax = "proto3";');
      sawStatement = true;
      switch (keyword.text) {
        case 'package':
          if (packageName !== undefined) this.fail(keyword, 'a file has at most one "package"');
          packageName = this.fullIdentifier();
          this.expectSymbol(';');
          break;
        case 'import': {
          const modifier = this.peek();
          if (modifier.kind === 'identifier' && (modifier.text === 'public' || modifier.text === 'weak')) {
            this.fail(modifier, `"import ${modifier.text}" is not supported`);
          }
          const path = this.expectString();
          imports.push({ path: path.text, line: path.line, column: path.column });
          this.expectSymbol(';');
          break;
        }
        case 'option':
          // File options (go_package and the like) name generated code, not the wire or JSON form.
          this.skipOptionStatement();
          break;
        case 'message':
          declarations.push(this.parseMessage(keyword));
          break;
        case 'enum':
          declarations.push(this.parseEnum(keyword));
          break;
        case 'service':
          services.push(this.parseService(keyword));
          break;
        default:
          this.unsupported(keyword, 'at the top level');
      }
    }
    if (!sawSyntax) this.fail(this.peek(), 'the file must start with syntax = "proto3";');
    return { name: this.file, packageName: packageName ?? '', imports, declarations, services };
  }

  private parseMessage(keyword: Token): MessageNode {
    const name = this.expectIdentifier('a message name').text;
    const message: MessageNode = {
      kind: 'message',
      name,
      fields: [],
      oneofs: [],
      declarations: [],
      reserved: { numbers: [], names: new Set() },
      line: keyword.line,
      column: keyword.column,
    };
    this.expectSymbol('{');
    while (!this.acceptSymbol('}')) {
      if (this.acceptSymbol(';')) continue;
      const token = this.peek();
      if (token.kind !== 'identifier' && !(token.kind === 'symbol' && token.text === '.')) {
        this.fail(token, `expected a field or declaration in message ${name}, found ${describe(token)}`);
      }
      const lookahead = this.tokens[this.index + 1]!;
      switch (token.text) {
        case 'message':
          this.index++;
          message.declarations.push(this.parseMessage(token));
          break;
        case 'enum':
          this.index++;
          message.declarations.push(this.parseEnum(token));
          break;
        case 'oneof':
          this.index++;
          this.parseOneof(token, message);
          break;
        case 'reserved':
          this.index++;
          this.parseReserved(message.reserved, FIELD_NUMBER_MAX);
          break;
        case 'option':
        case 'extensions':
        case 'extend':
        case 'optional':
        case 'required':
          this.unsupported(token, `in message ${name}`);
          break;
        default:
          if (token.text === 'map' && lookahead.kind === 'symbol' && lookahead.text === '<') {
            this.fail(token, 'map fields are not supported');
          }
          message.fields.push(this.parseField(undefined));
      }
    }
    return message;
  }

  private parseField(oneof: string | undefined): FieldNode {
    const start = this.peek();
    const repeated = oneof === undefined && this.acceptKeyword('repeated');
    const typeReference = this.typeReference();
    const name = this.expectIdentifier('a field name');
    this.expectSymbol('=');
    const numberToken = this.peek();
    const number = this.integer(false);
    if (number < 1 || number > FIELD_NUMBER_MAX) {
      this.fail(numberToken, `field number ${number} is outside 1..${FIELD_NUMBER_MAX}`);
    }
    if (number >= IMPLEMENTATION_RESERVED_FIRST && number <= IMPLEMENTATION_RESERVED_LAST) {
      this.fail(
        numberToken,
        `field numbers ${IMPLEMENTATION_RESERVED_FIRST}–${IMPLEMENTATION_RESERVED_LAST} are reserved by protobuf`,
      );
    }
    if (this.peekSymbol('[')) this.fail(this.peek(), 'field options are not supported');
    this.expectSymbol(';');
    const field = {
      name: name.text,
      typeReference,
      repeated,
      number,
      line: start.line,
      column: start.column,
    };
    return oneof === undefined ? field : { ...field, oneof };
  }

  private parseOneof(keyword: Token, message: MessageNode): void {
    const name = this.expectIdentifier('a oneof name').text;
    message.oneofs.push({ name, line: keyword.line, column: keyword.column });
    this.expectSymbol('{');
    let members = 0;
    while (!this.acceptSymbol('}')) {
      if (this.acceptSymbol(';')) continue;
      const token = this.peek();
      if (token.kind === 'identifier' && (token.text === 'option' || token.text === 'repeated')) {
        this.unsupported(token, `in oneof ${name}`);
      }
      message.fields.push(this.parseField(name));
      members++;
    }
    if (members === 0) this.fail(keyword, `oneof ${name} has no fields`);
  }

  private parseEnum(keyword: Token): EnumNode {
    const name = this.expectIdentifier('an enum name').text;
    const enumNode: EnumNode = {
      kind: 'enum',
      name,
      values: [],
      reserved: { numbers: [], names: new Set() },
      line: keyword.line,
      column: keyword.column,
    };
    this.expectSymbol('{');
    while (!this.acceptSymbol('}')) {
      if (this.acceptSymbol(';')) continue;
      const valueName = this.expectIdentifier('an enum value');
      if (valueName.text === 'option') this.unsupported(valueName, `in enum ${name}`);
      if (valueName.text === 'reserved' && !this.peekSymbol('=')) {
        this.parseReserved(enumNode.reserved, INT32_MAX);
        continue;
      }
      this.expectSymbol('=');
      const numberToken = this.peek();
      const number = this.integer(true);
      if (number < INT32_MIN || number > INT32_MAX) {
        this.fail(numberToken, `enum value ${number} does not fit in int32`);
      }
      if (this.peekSymbol('[')) this.fail(this.peek(), 'enum value options are not supported');
      this.expectSymbol(';');
      enumNode.values.push({ name: valueName.text, number, line: valueName.line, column: valueName.column });
    }
    if (enumNode.values.length === 0) this.fail(keyword, `enum ${name} has no values`);
    return enumNode;
  }

  private parseReserved(reserved: ReservedRanges, max: number): void {
    if (this.peek().kind === 'string') {
      do reserved.names.add(this.expectString().text);
      while (this.acceptSymbol(','));
    } else {
      do {
        const from = this.integer(max === INT32_MAX);
        let to = from;
        if (this.acceptKeyword('to')) to = this.acceptKeyword('max') ? max : this.integer(max === INT32_MAX);
        reserved.numbers.push([from, to]);
      } while (this.acceptSymbol(','));
    }
    this.expectSymbol(';');
  }

  private parseService(keyword: Token): ServiceNode {
    const name = this.expectIdentifier('a service name').text;
    const service: ServiceNode = { name, methods: [], line: keyword.line, column: keyword.column };
    this.expectSymbol('{');
    while (!this.acceptSymbol('}')) {
      if (this.acceptSymbol(';')) continue;
      const rpc = this.expectIdentifier('"rpc"');
      if (rpc.text !== 'rpc') this.unsupported(rpc, `in service ${name}`);
      const methodName = this.expectIdentifier('a method name').text;
      this.expectSymbol('(');
      const clientStreaming = this.acceptStreamKeyword();
      const input = this.typeReference();
      this.expectSymbol(')');
      const returns = this.expectIdentifier('"returns"');
      if (returns.text !== 'returns') this.fail(returns, `expected "returns", found ${describe(returns)}`);
      this.expectSymbol('(');
      const serverStreaming = this.acceptStreamKeyword();
      const output = this.typeReference();
      this.expectSymbol(')');
      if (this.acceptSymbol('{')) {
        while (!this.acceptSymbol('}')) {
          if (this.acceptSymbol(';')) continue;
          this.unsupported(this.peek(), `in rpc ${methodName}`);
        }
      } else this.expectSymbol(';');
      service.methods.push({
        name: methodName,
        input,
        output,
        clientStreaming,
        serverStreaming,
        line: rpc.line,
        column: rpc.column,
      });
    }
    return service;
  }

  /** `stream` is a modifier only when a type name follows it (a message may be called `stream`). */
  private acceptStreamKeyword(): boolean {
    const token = this.peek();
    const next = this.tokens[this.index + 1]!;
    if (
      token.kind === 'identifier' &&
      token.text === 'stream' &&
      !(next.kind === 'symbol' && next.text === ')')
    ) {
      this.index++;
      return true;
    }
    return false;
  }

  /** `option name = constant;` with the keyword already read; the value is checked, not kept. */
  private skipOptionStatement(): void {
    if (this.acceptSymbol('(')) {
      this.fullIdentifier(true);
      this.expectSymbol(')');
    } else this.expectIdentifier('an option name');
    while (this.acceptSymbol('.')) this.expectIdentifier('an option name');
    this.expectSymbol('=');
    const value = this.next();
    if (value.kind === 'symbol' && (value.text === '-' || value.text === '+')) {
      const number = this.next();
      if (
        number.kind !== 'number' &&
        !(number.kind === 'identifier' && (number.text === 'inf' || number.text === 'nan'))
      ) {
        this.fail(number, `expected a number, found ${describe(number)}`);
      }
    } else if (value.kind === 'string') {
      while (this.peek().kind === 'string') this.index++;
    } else if (value.kind === 'identifier') {
      while (this.acceptSymbol('.')) this.expectIdentifier('an identifier');
    } else if (value.kind !== 'number') {
      this.fail(
        value,
        `option values other than plain constants are not supported (found ${describe(value)})`,
      );
    }
    this.expectSymbol(';');
  }

  private typeReference(): string {
    const leadingDot = this.acceptSymbol('.');
    const name = this.fullIdentifier();
    return leadingDot ? `.${name}` : name;
  }

  private fullIdentifier(allowLeadingDot = false): string {
    let name = allowLeadingDot && this.acceptSymbol('.') ? '.' : '';
    name += this.expectIdentifier('a name').text;
    while (this.acceptSymbol('.')) name += `.${this.expectIdentifier('a name').text}`;
    return name;
  }

  /** A decimal, hexadecimal or octal integer, negative when allowed. */
  private integer(allowNegative: boolean): number {
    const sign = allowNegative && this.acceptSymbol('-') ? -1 : 1;
    const token = this.next();
    if (token.kind !== 'number' || !/^(?:0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9]\d*)$/.test(token.text)) {
      this.fail(token, `expected an integer, found ${describe(token)}`);
    }
    const text = token.text;
    const magnitude = /^0[xX]/.test(text)
      ? Number.parseInt(text.slice(2), 16)
      : text.length > 1 && text.startsWith('0')
        ? Number.parseInt(text.slice(1), 8)
        : Number.parseInt(text, 10);
    if (!Number.isSafeInteger(magnitude)) this.fail(token, `integer ${text} is too large`);
    return sign * magnitude;
  }

  private unsupported(token: Token, where: string): never {
    const what =
      token.kind === 'identifier'
        ? {
            option: 'options are',
            extensions: 'extension ranges are',
            extend: 'extensions are',
            optional: 'proto3 "optional" fields are',
            required: '"required" fields (proto2) are',
            repeated: 'repeated oneof members are',
          }[token.text]
        : undefined;
    this.fail(
      token,
      what === undefined ? `unexpected ${describe(token)} ${where}` : `${what} not supported (${where})`,
    );
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private peekSymbol(symbol: string): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && token.text === symbol;
  }

  private acceptSymbol(symbol: string): boolean {
    if (!this.peekSymbol(symbol)) return false;
    this.index++;
    return true;
  }

  private acceptKeyword(keyword: string): boolean {
    const token = this.peek();
    if (token.kind !== 'identifier' || token.text !== keyword) return false;
    this.index++;
    return true;
  }

  private expectSymbol(symbol: string): void {
    const token = this.next();
    if (token.kind !== 'symbol' || token.text !== symbol) {
      this.fail(token, `expected "${symbol}", found ${describe(token)}`);
    }
  }

  private expectIdentifier(what: string): Token {
    const token = this.next();
    if (token.kind !== 'identifier') this.fail(token, `expected ${what}, found ${describe(token)}`);
    return token;
  }

  private expectString(): Token {
    const token = this.next();
    if (token.kind !== 'string') this.fail(token, `expected a string, found ${describe(token)}`);
    // Adjacent string literals concatenate, as in C.
    let text = token.text;
    while (this.peek().kind === 'string') text += this.next().text;
    return { ...token, text };
  }

  private fail(at: SourcePosition, problem: string): never {
    throw new ProtoParseError(this.file, at, problem);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the file';
    case 'string':
      return `string ${JSON.stringify(token.text)}`;
    default:
      return `"${token.text}"`;
  }
}

// ---- symbols, name resolution and the schema ----

type SymbolKind = 'package' | 'message' | 'enum' | 'enumValue' | 'field' | 'oneof' | 'service';

interface SymbolEntry {
  readonly kind: SymbolKind;
  readonly file: string;
  readonly position: SourcePosition;
}

/** protoc's aggregates: symbols a dotted name can continue into. */
const AGGREGATE_KINDS: ReadonlySet<SymbolKind> = new Set(['package', 'message', 'enum', 'service']);

class SchemaBuilder {
  private readonly files: readonly FileNode[];
  private readonly symbols = new Map<string, SymbolEntry>();
  private readonly messages: Record<string, MessageSchema> = {};
  private readonly enums: Record<string, EnumSchema> = {};
  private readonly services: Record<string, Record<string, MethodSchema>> = {};

  constructor(files: readonly FileNode[]) {
    this.files = files;
  }

  build(): ProtoSchema {
    const names = new Set<string>();
    for (const file of this.files) {
      if (names.has(file.name))
        throw new ProtoParseError(file.name, { line: 1, column: 1 }, 'file given twice');
      names.add(file.name);
    }
    for (const file of this.files) this.defineFile(file);
    for (const file of this.files) {
      const visibleFiles = this.importedFiles(file);
      const scope = file.packageName;
      for (const declaration of file.declarations)
        this.buildDeclaration(file, visibleFiles, scope, declaration);
      for (const service of file.services) this.buildService(file, visibleFiles, service);
    }
    return { messages: this.messages, enums: this.enums, services: this.services };
  }

  private define(file: string, fullName: string, kind: SymbolKind, position: SourcePosition): void {
    const existing = this.symbols.get(fullName);
    if (existing !== undefined && !(existing.kind === 'package' && kind === 'package')) {
      const where = `${existing.file}:${existing.position.line}:${existing.position.column}`;
      throw new ProtoParseError(
        file,
        position,
        `"${fullName}" is already defined (as a ${existing.kind} at ${where})`,
      );
    }
    if (existing === undefined) this.symbols.set(fullName, { kind, file, position });
  }

  private defineFile(file: FileNode): void {
    const parts = file.packageName === '' ? [] : file.packageName.split('.');
    for (let count = 1; count <= parts.length; count++) {
      this.define(file.name, parts.slice(0, count).join('.'), 'package', { line: 1, column: 1 });
    }
    for (const declaration of file.declarations)
      this.defineDeclaration(file.name, file.packageName, declaration);
    for (const service of file.services) {
      const serviceName = qualify(file.packageName, service.name);
      this.define(file.name, serviceName, 'service', service);
      const methods = new Set<string>();
      for (const method of service.methods) {
        if (methods.has(method.name)) {
          throw new ProtoParseError(
            file.name,
            method,
            `method ${method.name} is defined twice in ${serviceName}`,
          );
        }
        methods.add(method.name);
      }
    }
  }

  private defineDeclaration(file: string, scope: string, declaration: MessageNode | EnumNode): void {
    const fullName = qualify(scope, declaration.name);
    this.define(file, fullName, declaration.kind, declaration);
    if (declaration.kind === 'enum') {
      // Enum values are siblings of their enum (C++ scoping), so they share its scope's names.
      for (const value of declaration.values)
        this.define(file, qualify(scope, value.name), 'enumValue', value);
      return;
    }
    for (const field of declaration.fields) this.define(file, qualify(fullName, field.name), 'field', field);
    for (const oneof of declaration.oneofs) this.define(file, qualify(fullName, oneof.name), 'oneof', oneof);
    for (const nested of declaration.declarations) this.defineDeclaration(file, fullName, nested);
  }

  /** The file itself and the files it imports: the only ones whose types it may name. */
  private importedFiles(file: FileNode): ReadonlySet<string> {
    const visible = new Set([file.name]);
    for (const imported of file.imports) {
      const matches = this.files.filter(
        (candidate) => candidate.name === imported.path || candidate.name.endsWith(`/${imported.path}`),
      );
      if (matches.length === 0) {
        throw new ProtoParseError(
          file.name,
          imported,
          `imported file "${imported.path}" is not among the files given`,
        );
      }
      if (matches.length > 1) {
        const candidates = matches.map((match) => match.name).join(', ');
        throw new ProtoParseError(
          file.name,
          imported,
          `import "${imported.path}" is ambiguous: ${candidates}`,
        );
      }
      visible.add(matches[0]!.name);
    }
    return visible;
  }

  private buildDeclaration(
    file: FileNode,
    visibleFiles: ReadonlySet<string>,
    scope: string,
    declaration: MessageNode | EnumNode,
  ): void {
    const fullName = qualify(scope, declaration.name);
    if (declaration.kind === 'enum') {
      this.enums[fullName] = { values: buildEnumValues(file.name, fullName, declaration) };
      return;
    }
    const fields: FieldSchema[] = [];
    const numbers = new Map<number, FieldNode>();
    const jsonNames = new Map<string, FieldNode>();
    for (const field of declaration.fields) {
      const clash = numbers.get(field.number);
      if (clash !== undefined) {
        throw new ProtoParseError(
          file.name,
          field,
          `field number ${field.number} is already used by ${clash.name} in ${fullName}`,
        );
      }
      numbers.set(field.number, field);
      if (declaration.reserved.names.has(field.name)) {
        throw new ProtoParseError(file.name, field, `field name "${field.name}" is reserved in ${fullName}`);
      }
      if (declaration.reserved.numbers.some(([from, to]) => field.number >= from && field.number <= to)) {
        throw new ProtoParseError(
          file.name,
          field,
          `field number ${field.number} is reserved in ${fullName}`,
        );
      }
      const jsonName = protoJsonName(field.name);
      // The gateway accepts both spellings of every field, so no spelling may name two fields.
      for (const spelling of new Set([field.name, jsonName])) {
        const other = jsonNames.get(spelling);
        if (other !== undefined) {
          throw new ProtoParseError(
            file.name,
            field,
            `field ${field.name} and field ${other.name} of ${fullName} both answer to the JSON name "${spelling}"`,
          );
        }
        jsonNames.set(spelling, field);
      }
      fields.push(this.buildField(file, visibleFiles, fullName, field, jsonName));
    }
    this.messages[fullName] = { fields };
    for (const nested of declaration.declarations)
      this.buildDeclaration(file, visibleFiles, fullName, nested);
  }

  private buildField(
    file: FileNode,
    visibleFiles: ReadonlySet<string>,
    scope: string,
    field: FieldNode,
    jsonName: string,
  ): FieldSchema {
    const common = { name: field.name, jsonName, number: field.number };
    const membership = field.oneof === undefined ? {} : { oneof: field.oneof };
    if (SCALAR_TYPES.has(field.typeReference)) {
      return { ...common, type: field.typeReference as ScalarType, repeated: field.repeated, ...membership };
    }
    const resolved = this.resolveType(file, visibleFiles, scope, field.typeReference, field);
    return {
      ...common,
      type: resolved.kind,
      typeName: resolved.fullName,
      repeated: field.repeated,
      ...membership,
    };
  }

  private buildService(file: FileNode, visibleFiles: ReadonlySet<string>, service: ServiceNode): void {
    const methods: Record<string, MethodSchema> = {};
    for (const method of service.methods) {
      const input = this.resolveType(file, visibleFiles, file.packageName, method.input, method);
      const output = this.resolveType(file, visibleFiles, file.packageName, method.output, method);
      for (const [role, resolved] of [
        ['input', input],
        ['output', output],
      ] as const) {
        if (resolved.kind !== 'message') {
          throw new ProtoParseError(
            file.name,
            method,
            `the ${role} of rpc ${method.name} must be a message, not enum ${resolved.fullName}`,
          );
        }
      }
      methods[method.name] = {
        input: input.fullName,
        output: output.fullName,
        clientStreaming: method.clientStreaming,
        serverStreaming: method.serverStreaming,
      };
    }
    this.services[qualify(file.packageName, service.name)] = methods;
  }

  private resolveType(
    file: FileNode,
    visibleFiles: ReadonlySet<string>,
    scope: string,
    reference: string,
    at: SourcePosition,
  ): { kind: 'message' | 'enum'; fullName: string } {
    const visible = (entry: SymbolEntry) => entry.kind === 'package' || visibleFiles.has(entry.file);
    const found = this.lookup(scope, reference, visible);
    if (found !== undefined) {
      const entry = this.symbols.get(found)!;
      if (entry.kind === 'message' || entry.kind === 'enum') return { kind: entry.kind, fullName: found };
      throw new ProtoParseError(
        file.name,
        at,
        `"${reference}" resolves to ${found}, which is a ${entry.kind}, not a type`,
      );
    }
    const anywhere = this.lookup(scope, reference, () => true);
    const entry = anywhere === undefined ? undefined : this.symbols.get(anywhere);
    if (entry !== undefined && (entry.kind === 'message' || entry.kind === 'enum')) {
      throw new ProtoParseError(
        file.name,
        at,
        `"${reference}" is ${anywhere}, defined in ${entry.file}, which ${file.name} does not import`,
      );
    }
    throw new ProtoParseError(
      file.name,
      at,
      `unknown type "${reference}" (looked up from ${scope || 'the root'})`,
    );
  }

  /**
   * protoc's lookup: a leading dot means fully qualified; otherwise the first part of the name is
   * looked up from the innermost scope outwards, and once found as an aggregate the rest must
   * resolve inside it. Returns the full name found.
   */
  private lookup(
    scope: string,
    reference: string,
    visible: (entry: SymbolEntry) => boolean,
  ): string | undefined {
    const find = (fullName: string) => {
      const entry = this.symbols.get(fullName);
      return entry !== undefined && visible(entry) ? entry : undefined;
    };
    if (reference.startsWith('.'))
      return find(reference.slice(1)) === undefined ? undefined : reference.slice(1);
    const dot = reference.indexOf('.');
    const firstPart = dot === -1 ? reference : reference.slice(0, dot);
    let scopeToTry = scope;
    for (;;) {
      const candidate = qualify(scopeToTry, firstPart);
      const entry = find(candidate);
      if (entry !== undefined) {
        if (dot === -1) {
          if (entry.kind === 'message' || entry.kind === 'enum') return candidate;
        } else if (AGGREGATE_KINDS.has(entry.kind)) {
          const fullName = qualify(scopeToTry, reference);
          return find(fullName) === undefined ? undefined : fullName;
        }
      }
      if (scopeToTry === '') return undefined;
      const lastDot = scopeToTry.lastIndexOf('.');
      scopeToTry = lastDot === -1 ? '' : scopeToTry.slice(0, lastDot);
    }
  }
}

function buildEnumValues(file: string, fullName: string, enumNode: EnumNode): Record<string, number> {
  const values: Record<string, number> = {};
  const numbers = new Map<number, string>();
  if (enumNode.values[0]!.number !== 0) {
    throw new ProtoParseError(
      file,
      enumNode.values[0]!,
      `the first value of proto3 enum ${fullName} must be 0`,
    );
  }
  for (const value of enumNode.values) {
    const alias = numbers.get(value.number);
    if (alias !== undefined) {
      throw new ProtoParseError(
        file,
        value,
        `${value.name} repeats the number ${value.number} of ${alias} (aliases need allow_alias, which is not supported)`,
      );
    }
    if (enumNode.reserved.names.has(value.name)) {
      throw new ProtoParseError(file, value, `enum value name "${value.name}" is reserved in ${fullName}`);
    }
    if (enumNode.reserved.numbers.some(([from, to]) => value.number >= from && value.number <= to)) {
      throw new ProtoParseError(file, value, `enum value number ${value.number} is reserved in ${fullName}`);
    }
    numbers.set(value.number, value.name);
    values[value.name] = value.number;
  }
  return values;
}

function qualify(scope: string, name: string): string {
  return scope === '' ? name : `${scope}.${name}`;
}
