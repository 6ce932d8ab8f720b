/**
 * WebSocket masking (every byte a client sends is XORed with a 4-byte key) four bytes at a time.
 * The agent is the tunnel's WebSocket client, so it masks everything it sends: with `ws`'s
 * byte-by-byte loop that was a third of the agent's CPU under bulk downloads. The bundle gives
 * this module to `ws` in place of the optional native `bufferutil` (same two functions), which
 * the image cannot carry.
 */
import { endianness } from "node:os"

const littleEndian = endianness() === "LE"

/** The key as one 32-bit word, starting at key byte `phase`, in the machine's byte order. */
const keyWord = (key: Uint8Array, phase: number): number => {
  const [a, b, c, d] = [key[phase & 3]!, key[(phase + 1) & 3]!, key[(phase + 2) & 3]!, key[(phase + 3) & 3]!]
  return littleEndian ? (a | (b << 8) | (c << 16) | (d << 24)) >>> 0 : ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
}

/** XORs `buffer[start, start + length)` with the key repeated from its first byte, in place. */
const xorInPlace = (buffer: Buffer, start: number, length: number, key: Uint8Array): void => {
  let i = 0
  const base = buffer.byteOffset + start
  for (; i < length && ((base + i) & 3) !== 0; i++) buffer[start + i]! ^= key[i & 3]!
  const words = (length - i) >>> 2
  if (words > 0) {
    const view = new Uint32Array(buffer.buffer, base + i, words)
    const word = keyWord(key, i)
    for (let w = 0; w < words; w++) view[w]! ^= word
    i += words * 4
  }
  for (; i < length; i++) buffer[start + i]! ^= key[i & 3]!
}

/** `output[offset + i] = source[i] ^ key[i % 4]` for `i < length`. */
export const mask = (source: Buffer, key: Uint8Array, output: Buffer, offset: number, length: number): void => {
  if (source !== output || offset !== 0) source.copy(output, offset, 0, length)
  xorInPlace(output, offset, length, key)
}

/** Unmasks `buffer` in place. */
export const unmask = (buffer: Buffer, key: Uint8Array): void => xorInPlace(buffer, 0, buffer.length, key)
