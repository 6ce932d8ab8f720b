import { describe, expect, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { mask, unmask } from "../../src/tunnel/Mask.js"

/** RFC 6455's definition, byte by byte. */
const reference = (data: Buffer, key: Buffer) => Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!))

describe("Mask (word-wise WebSocket masking)", () => {
  it("matches the byte-wise definition for every alignment and length", () => {
    const key = randomBytes(4)
    for (const length of [0, 1, 3, 4, 5, 47, 48, 63, 64, 1000, 65_537]) {
      for (const shift of [0, 1, 2, 3]) {
        const data = randomBytes(length + shift).subarray(shift)
        for (const offset of [0, 2, 6, 8, 14]) {
          const output = Buffer.alloc(length + offset + 3).subarray(3 - (offset % 3))
          mask(data, key, output, offset, length)
          expect(output.subarray(offset, offset + length).equals(reference(data, key)), `length ${length} shift ${shift} offset ${offset}`).toBe(true)
        }
        const inPlace = Buffer.from(data)
        unmask(inPlace, key)
        expect(inPlace.equals(reference(data, key))).toBe(true)
      }
    }
  })

  it("masks in place when source and output are one buffer", () => {
    const key = Buffer.from([1, 2, 3, 4])
    const data = randomBytes(101)
    const copy = Buffer.from(data)
    mask(copy, key, copy, 0, copy.length)
    expect(copy.equals(reference(data, key))).toBe(true)
  })
})
