/**
 * The reference controller served in-process on a loopback port, for integration tests.
 */
import { Effect } from "effect"
import { serve } from "../../src/reference-controller/Serve.js"
import type { TokenBindings } from "../../src/reference-controller/Tokens.js"

/** Serves the reference controller on 127.0.0.1:`port` (0: a free port) until the scope closes; `edgePort`: its edge too. */
export const serveController = (tokens: TokenBindings, port = 0, edgePort?: number) => Effect.gen(function* () {
  const serving = yield* Effect.orDie(serve(tokens, { host: "127.0.0.1", port, edgePort }))
  return { ...serving, url: `http://127.0.0.1:${serving.port}` }
})
