/**
 * An HTTP CONNECT proxy on loopback that records what it was asked to reach and with which
 * credentials, for tests of egress through a proxy.
 */
import { createServer } from "node:http"
import { connect, type AddressInfo } from "node:net"

export interface ConnectProxy {
  readonly url: string
  /** `host:port` of each CONNECT, in order. */
  readonly connects: Array<string>
  /** The `Proxy-Authorization` header of each CONNECT (`""` when absent). */
  readonly authorizations: Array<string>
  readonly close: () => Promise<void>
}

export const startConnectProxy = (): Promise<ConnectProxy> => new Promise((resolve) => {
  const connects: Array<string> = []
  const authorizations: Array<string> = []
  const server = createServer((_request, response) => response.writeHead(405).end())
  server.on("connect", (request, client, head) => {
    const target = request.url ?? ""
    connects.push(target)
    authorizations.push(request.headers["proxy-authorization"] ?? "")
    const at = target.lastIndexOf(":")
    const upstream = connect(Number(target.slice(at + 1)), target.slice(0, at).replace(/^\[(.*)\]$/, "$1"), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on("error", () => client.destroy())
    client.on("error", () => upstream.destroy())
  })
  server.listen(0, "127.0.0.1", () => resolve({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connects, authorizations,
    close: () => new Promise((done) => {
      server.close(() => done())
      server.closeAllConnections()
    })
  }))
})
