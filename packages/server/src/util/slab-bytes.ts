// Small byte arrays for hot paths (one or more per request or log entry). A `new Uint8Array(n)`
// gets an ArrayBuffer of its own, which V8 allocates and frees outside its heap at a cost far above
// the encoding itself; Node's Buffer.allocUnsafe carves small sizes out of a shared slab instead.
// A plain Uint8Array view over that memory keeps the type callers and tests expect.

/** `length` bytes (not zeroed: the caller writes all of them) from Node's shared slab when small. */
export function slabBytes(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafe(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}
