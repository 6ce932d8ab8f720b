/**
 * A WebSocket's binary messages as one byte stream, the transport HTTP/2 runs over in the tunnel
 * (both ends use it: the agent dials, the controller accepts).
 *
 * Writes complete at once while the socket's unsent bytes stay under `maxBuffered`, and only
 * when they have gone out beyond it. HTTP/2 stops reading a session while one of its writes is
 * pending; if a write waited for the socket every time, two sessions exchanging bulk data both
 * ways would each wait for the other to read, and stall. The cap is larger than any HTTP/2
 * window, so flow control still bounds the memory.
 */
import { Duplex } from "node:stream"
import type { WebSocket } from "ws"

export interface DuplexOptions {
  /** Unsent bytes above which a write waits until its message has gone out. */
  readonly maxBuffered: number
  /** Pieces written together up to this many bytes in all are joined into one message. */
  readonly joinBelow: number
}

export const defaultDuplexOptions: DuplexOptions = { maxBuffered: 64 * 1024 * 1024, joinBelow: 64 * 1024 }

/** Close code for a text message, which the protocol does not carry. */
export const protocolErrorCode = 1002

/** A WebSocket closed or failed under the byte stream; its reason says how. */
export class WebSocketClosed extends Error {
  constructor(readonly code: number, reason: string) {
    super(reason === "" ? `websocket closed (${code})` : `websocket closed (${code}: ${reason})`)
  }
}

class WebSocketDuplex extends Duplex {
  constructor(private readonly socket: WebSocket, private readonly options: DuplexOptions) {
    super({ allowHalfOpen: false })
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        socket.close(protocolErrorCode, "text message")
        this.destroy(new WebSocketClosed(protocolErrorCode, "text message"))
        return
      }
      if (!this.push(data)) socket.pause()
    })
    // A closed socket is an error for whatever runs over it: a stream of HTTP/2 cut here must
    // never look finished.
    socket.on("close", (code: number, reason: Buffer) => this.destroy(new WebSocketClosed(code, reason.toString())))
    socket.on("error", (error: Error) => this.destroy(error))
  }

  override _read(): void {
    if (this.socket.isPaused) this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk, callback)
  }

  /**
   * Small pieces written together (the frames of a small request or answer) go as one message:
   * one WebSocket frame and one socket write instead of one each (+10-15 % small requests per
   * second, less CPU). Bulk pieces go one message each: joining them was no faster, and a copy.
   */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const total = chunks.reduce((n, { chunk }) => n + chunk.length, 0)
    if (total <= this.options.joinBelow) return this.send(Buffer.concat(chunks.map((c) => c.chunk), total), callback)
    for (const { chunk } of chunks.slice(0, -1)) this.socket.send(chunk, { binary: true })
    this.send(chunks[chunks.length - 1]!.chunk, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.close(1000)
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A failure does not wait for the peer's close frame: the connection is gone at once. (A
    // socket already closing, with its own code, finishes its close handshake.)
    const state = this.socket.readyState
    if (state === this.socket.CONNECTING || (error !== null && state === this.socket.OPEN)) this.socket.terminate()
    else if (state === this.socket.OPEN) this.socket.close(1000)
    callback(error)
  }

  /** Sends one message; completes at once under the cap, else once it has gone out. */
  private send(message: Buffer, callback: (error?: Error | null) => void): void {
    if (this.socket.readyState !== this.socket.OPEN) return callback(new WebSocketClosed(1006, "not open"))
    if (this.socket.bufferedAmount + message.length <= this.options.maxBuffered) {
      this.socket.send(message, { binary: true })
      callback()
    } else {
      this.socket.send(message, { binary: true }, (error) => callback(error ?? null))
    }
  }
}

/** The socket's binary messages as a Duplex; destroying it closes the socket. */
export const webSocketDuplex = (socket: WebSocket, options: DuplexOptions = defaultDuplexOptions): Duplex =>
  new WebSocketDuplex(socket, options)
