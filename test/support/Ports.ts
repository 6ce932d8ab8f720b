/**
 * Loopback ports for tests that start servers and processes.
 */
import { Effect } from "effect"
import { createServer, type AddressInfo } from "node:net"

/** A port free on 127.0.0.1 right now (the OS picks it; it is released before use). */
export const freePort = () => Effect.promise(() => new Promise<number>((resolve) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resolve(port))
  })
}))
