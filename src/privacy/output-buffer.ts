/**
 * An output buffer for the agent's streaming writers: bytes are gathered a megabyte at a time,
 * hashed (SHA-256) as they are handed to the file, and `drain` waits when the disk is behind
 * (backpressure), so memory stays flat whatever the file's size.
 */
import { createHash } from 'node:crypto';
import type { WriteStream } from 'node:fs';

const OUT_CHUNK = 1 << 20;

/** An output buffer flushed a megabyte at a time, hashing what it writes. */
export class OutputBuffer {
  buf = Buffer.allocUnsafe(OUT_CHUNK);
  pos = 0;
  private full: Buffer[] = [];
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly stream: WriteStream) {}

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(OUT_CHUNK, n));
    this.pos = 0;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  ascii(text: string): void {
    this.ensure(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }
  copy(source: Buffer, start: number, end: number): void {
    const length = end - start;
    this.ensure(length);
    if (length < 48) {
      // Buffer#copy's fixed cost outweighs a byte loop for short fields.
      const buf = this.buf;
      let pos = this.pos;
      for (let k = start; k < end; k++) buf[pos++] = source[k] as number;
      this.pos = pos;
    } else this.pos += source.copy(this.buf, this.pos, start, end);
  }
  /** Hands full chunks to the file, waiting when the disk is behind (backpressure). */
  async drain(final = false): Promise<void> {
    if (final && this.pos > 0) {
      this.full.push(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(0);
      this.pos = 0;
    }
    const chunks = this.full;
    this.full = [];
    for (const chunk of chunks) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      if (!this.stream.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const done = (error?: Error): void => {
            this.stream.off('drain', done);
            this.stream.off('error', done);
            if (error) reject(error);
            else resolve();
          };
          this.stream.on('drain', done);
          this.stream.on('error', done);
        });
      }
    }
  }
}
