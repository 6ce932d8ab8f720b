/**
 * `node-fetch` as the Kubernetes client's KubeConfig sees it, made of Node's own `fetch` and
 * `Headers`. The bundle gives this module to the client in place of `node-fetch`, whose URL parser
 * and its Unicode tables (300 KB) would otherwise load at every start; the agent makes its requests
 * itself and calls neither. Both are looked up when called: reading Node's globals loads its fetch
 * implementation, which nothing else needs.
 */
export function Headers(init?: ConstructorParameters<typeof globalThis.Headers>[0]): globalThis.Headers {
  return new globalThis.Headers(init)
}

export default (...args: Parameters<typeof globalThis.fetch>): ReturnType<typeof globalThis.fetch> => globalThis.fetch(...args)
