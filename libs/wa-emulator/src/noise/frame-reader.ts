/**
 * Splits the WebSocket byte stream into WhatsApp frames (3-byte big-endian
 * length prefix). The client's first bytes carry a 4-byte intro ("WA", 6, 3),
 * optionally preceded by an edge-routing header ("ED"); the server sends none.
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  private introSeen = false;
  introHeader: Buffer | undefined;

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (!this.introSeen && !this.readIntro()) return [];
    const frames: Buffer[] = [];
    while (this.buffered.length >= 3) {
      const size = (this.buffered[0] << 16) | (this.buffered[1] << 8) | this.buffered[2];
      if (this.buffered.length < size + 3) break;
      frames.push(this.buffered.subarray(3, size + 3));
      this.buffered = this.buffered.subarray(size + 3);
    }
    return frames;
  }

  private readIntro(): boolean {
    let offset = 0;
    if (this.buffered.length >= 2 && this.buffered.toString('latin1', 0, 2) === 'ED') {
      if (this.buffered.length < 7) return false;
      const routingLength = (this.buffered[4] << 16) | this.buffered.readUInt16BE(5);
      offset = 7 + routingLength;
    }
    if (this.buffered.length < offset + 4) return false;
    this.introHeader = Buffer.from(this.buffered.subarray(offset, offset + 4));
    this.buffered = this.buffered.subarray(offset + 4);
    this.introSeen = true;
    return true;
  }
}

export function encodeFrame(data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(3 + data.byteLength);
  frame[0] = (data.byteLength >>> 16) & 0xff;
  frame[1] = (data.byteLength >>> 8) & 0xff;
  frame[2] = data.byteLength & 0xff;
  frame.set(data, 3);
  return frame;
}
