import { afterEach, describe, expect, it } from "@effect/vitest"
import type { AddressInfo } from "node:net"
import type { Duplex } from "node:stream"
import { WebSocket, WebSocketServer } from "ws"
import { webSocketDuplex, WebSocketClosed } from "../../src/tunnel/WebSocketDuplex.js"

let server: WebSocketServer | undefined

/** A client duplex to a server whose connection `onServer` drives. */
const connected = (onServer: (socket: WebSocket) => void) => new Promise<{ bytes: Duplex; closed: Promise<number> }>((resolve) => {
  server = new WebSocketServer({ port: 0, host: "127.0.0.1" }, () => {
    const client = new WebSocket(`ws://127.0.0.1:${(server?.address() as AddressInfo).port}`)
    const closed = new Promise<number>((done) => client.once("close", (code) => done(code)))
    client.once("open", () => resolve({ bytes: webSocketDuplex(client), closed }))
  })
  server.on("connection", onServer)
})

const failure = (bytes: Duplex) => new Promise<Error>((resolve) => bytes.once("error", resolve))

afterEach(() => server?.close())

describe("WebSocketDuplex", () => {
  it("carries bytes both ways as binary messages", async () => {
    const { bytes } = await connected((socket) => socket.on("message", (data, binary) => socket.send(Buffer.concat([Buffer.from("echo:"), data as Buffer]), { binary })))
    const answer = new Promise<string>((resolve) => bytes.once("data", (chunk: Buffer) => resolve(chunk.toString())))
    bytes.write(Buffer.from("hello"))
    expect(await answer).toBe("echo:hello")
  })

  it("closes with 1002 on a text message: the protocol carries bytes only", async () => {
    let serverSaw = 0
    const { bytes, closed } = await connected((socket) => {
      socket.once("close", (code) => (serverSaw = code))
      setTimeout(() => socket.send("not bytes"), 20)
    })
    const error = await failure(bytes)
    expect(error).toBeInstanceOf(WebSocketClosed)
    expect(await closed).toBe(1002)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(serverSaw).toBe(1002)
  })

  it("a connection closed by the peer is an error, never a clean end of the bytes", async () => {
    const { bytes } = await connected((socket) => setTimeout(() => socket.terminate(), 10))
    let ended = false
    bytes.once("end", () => (ended = true))
    expect(await failure(bytes)).toBeInstanceOf(WebSocketClosed)
    expect(ended).toBe(false)
  })
})
