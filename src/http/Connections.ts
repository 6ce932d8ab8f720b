/**
 * Every connection of a server, upgraded ones included: `closeAllConnections` ends only those still
 * speaking HTTP, so a server with tunnels or WebSockets open would wait on its peers to close.
 */
import type { Server } from "node:http"
import type { Socket } from "node:net"

/** Tracks `server`'s connections from now on; the function returned ends them all. */
export const trackConnections = (server: Server): (() => void) => {
  const open = new Set<Socket>()
  server.on("connection", (socket: Socket) => {
    open.add(socket)
    socket.once("close", () => open.delete(socket))
  })
  return () => {
    for (const socket of open) socket.destroy()
  }
}
