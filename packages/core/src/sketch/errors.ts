/** Raised when bytes handed to a sketch's `fromBytes` are not a sketch this module wrote. */
export class SketchFormatError extends Error {
  readonly code = 'SKETCH_FORMAT';

  constructor(sketch: string, problem: string) {
    super(`Cannot read ${sketch}: ${problem}. The bytes are corrupt or come from another format or version.`);
    this.name = 'SketchFormatError';
  }
}

/** Raised when two sketches of different shapes are merged. */
export class SketchMismatchError extends Error {
  readonly code = 'SKETCH_MISMATCH';

  constructor(sketch: string, problem: string) {
    super(`Cannot merge ${sketch}: ${problem}. Only sketches created with the same parameters merge.`);
    this.name = 'SketchMismatchError';
  }
}
