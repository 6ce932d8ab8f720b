/**
 * The reference controller's end of the tunnel: it accepts an agent's WebSocket on the API port
 * (a token bound to the cluster the agent names), runs an HTTP/2 client session over it, and
 * keeps each cluster's live sessions for the edge, which spreads requests over them in turn.
 */
import * as http2 from "node:http2"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocketServer } from "ws"
import { connectionWindow, maxPayload, sessionMemoryMb, streamWindow, tunnelPath, tunnelSubprotocol } from "../tunnel/Connection.js"
import { webSocketDuplex } from "../tunnel/WebSocketDuplex.js"
import { clusterOf, type TokenBindings } from "./Tokens.js"

/** Each cluster's tunnel sessions, ready for requests. */
export interface TunnelSessions {
  /** The next of the cluster's sessions in turn; `undefined` when it has none. */
  readonly pick: (cluster: string) => http2.ClientHttp2Session | undefined
  /** Destroys every session, as a network failure would. */
  readonly dropAll: () => void
  /** Drops every session and accepts no more (the controller is stopping). */
  readonly closeAll: () => void
}

/**
 * Accepts tunnel upgrades (`handle`) and `DELETE` on the tunnel path, which drops the token's
 * cluster's connections as a network failure would (`control`); both answer `false` for requests
 * that are not theirs.
 */
export interface TunnelEndpoint extends TunnelSessions {
  readonly handle: (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean
  readonly control: (request: IncomingMessage, response: ServerResponse) => boolean
}

const refuse = (socket: Duplex, status: number, text: string) => {
  const body = JSON.stringify({ error: text })
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Bad Request"}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

export const makeTunnelEndpoint = (tokens: TokenBindings, log: (message: string, fields: Record<string, unknown>) => void): TunnelEndpoint => {
  const sessions = new Map<string, Array<http2.ClientHttp2Session>>()
  const turns = new Map<string, number>()
  const server = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload,
    handleProtocols: (offered) => (offered.has(tunnelSubprotocol) ? tunnelSubprotocol : false)
  })

  const attach = (cluster: string, agentId: string, session: http2.ClientHttp2Session) => {
    sessions.set(cluster, [...(sessions.get(cluster) ?? []), session])
    log("tunnel connected", { cluster, agent_id: agentId, connections: sessions.get(cluster)?.length ?? 0 })
    session.once("close", () => {
      const left = (sessions.get(cluster) ?? []).filter((s) => s !== session)
      if (left.length === 0) sessions.delete(cluster)
      else sessions.set(cluster, left)
      log("tunnel disconnected", { cluster, agent_id: agentId, connections: left.length })
    })
  }

  const drop = (cluster: string) => {
    const list = sessions.get(cluster) ?? []
    for (const session of list) session.destroy(new Error("tunnel dropped"))
    return list.length
  }
  const dropAll = () => {
    for (const cluster of [...sessions.keys()]) drop(cluster)
  }
  const ours = (request: IncomingMessage) => new URL(request.url ?? "/", "http://controller").pathname === tunnelPath
  const clusterOfRequest = (request: IncomingMessage) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers["authorization"] ?? "")
    return match?.[1] === undefined ? undefined : clusterOf(tokens, match[1])
  }

  return {
    control: (request, response) => {
      if (request.method !== "DELETE" || !ours(request)) return false
      const cluster = clusterOfRequest(request)
      response.writeHead(cluster === undefined ? 401 : 200, { "content-type": "application/json" })
      response.end(JSON.stringify(cluster === undefined ? { error: "missing or unknown bearer token" } : { dropped: drop(cluster) }))
      return true
    },
    handle: (request, socket, head) => {
      if (!ours(request)) return false
      const cluster = clusterOfRequest(request)
      if (cluster === undefined) return refuse(socket, 401, "missing or unknown bearer token"), true
      if (request.headers["x-pipeops-cluster-uuid"] !== cluster) return refuse(socket, 403, "this token may not open a tunnel for that cluster"), true
      const agentId = String(request.headers["x-pipeops-agent-id"] ?? "")
      server.handleUpgrade(request, socket, head, (websocket) => {
        if (websocket.protocol !== tunnelSubprotocol) return websocket.close(1002, "subprotocol required")
        const session = http2.connect("http://tunnel.invalid", {
          createConnection: () => webSocketDuplex(websocket), maxSessionMemory: sessionMemoryMb,
          settings: { initialWindowSize: streamWindow, enablePush: false }
        })
        session.on("error", () => {})
        // Until the agent's SETTINGS arrive Node assumes 100 concurrent streams and no extended CONNECT.
        session.once("remoteSettings", () => {
          session.setLocalWindowSize(connectionWindow)
          attach(cluster, agentId, session)
        })
      })
      return true
    },
    pick: (cluster) => {
      const live = (sessions.get(cluster) ?? []).filter((s) => !s.closed && !s.destroyed)
      if (live.length === 0) return undefined
      const turn = (turns.get(cluster) ?? 0) % live.length
      turns.set(cluster, turn + 1)
      return live[turn]
    },
    dropAll,
    closeAll: () => {
      dropAll()
      server.close()
    }
  }
}
