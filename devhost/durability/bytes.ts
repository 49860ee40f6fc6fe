/**
 * Little-endian byte writer/reader for the log and snapshot payloads (BSATN-like: fixed-width ints,
 * u32-length-prefixed byte strings). Bigints of any size use a sign+length prefix because identities
 * are u256 and sequence allocations i128.
 */

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16LE(v, this.pos);
  }

  u32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64LE(v, this.pos);
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64LE(v, this.pos);
  }

  /** Sign byte (bit 7) + magnitude length (bits 0-6), then the magnitude little-endian. */
  bigint(v: bigint): void {
    const negative = v < 0n;
    let mag = negative ? -v : v;
    const bytes: number[] = [];
    while (mag > 0n) {
      bytes.push(Number(mag & 0xffn));
      mag >>= 8n;
    }
    if (bytes.length > 0x7f) throw new RangeError(`bigint too large to encode (${bytes.length} bytes)`);
    this.u8((negative ? 0x80 : 0) | bytes.length);
    this.ensure(bytes.length);
    for (const b of bytes) this.buf[this.pos++] = b;
  }

  /** u32 length + bytes. */
  bytes(v: Uint8Array): void {
    this.u32(v.length);
    this.raw(v);
  }

  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(v: string): void {
    this.bytes(Buffer.from(v, 'utf8'));
  }

  /** Overwrites a u32 written earlier (length/count back-patching). */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  /** A view of what was written; the writer must not be used afterwards. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Thrown when a payload is shorter or stranger than its encoding allows. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length)
      throw new DecodeError(`needs ${n} bytes at ${this.pos}, only ${this.buf.length - this.pos} left`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  bigint(): bigint {
    const head = this.u8();
    const len = head & 0x7f;
    this.need(len);
    let mag = 0n;
    for (let i = len - 1; i >= 0; i--) mag = (mag << 8n) | BigInt(this.buf[this.pos + i] as number);
    this.pos += len;
    return head & 0x80 ? -mag : mag;
  }

  /** A copy, so decoded rows do not pin the whole file buffer in memory. */
  bytes(): Uint8Array {
    const len = this.u32();
    this.need(len);
    const v = new Uint8Array(len);
    v.set(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return v;
  }

  string(): string {
    const len = this.u32();
    this.need(len);
    const v = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** Count prefix checked against the bytes left, so a bad count fails fast instead of looping. */
  count(minItemBytes: number): number {
    const n = this.u32();
    if (n * minItemBytes > this.remaining)
      throw new DecodeError(`count ${n} at ${this.pos - 4} exceeds the remaining ${this.remaining} bytes`);
    return n;
  }

  end(): void {
    if (this.pos !== this.buf.length)
      throw new DecodeError(`${this.buf.length - this.pos} trailing bytes after the payload`);
  }
}
