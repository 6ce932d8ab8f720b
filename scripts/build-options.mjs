// The esbuild options of `npm run build`, shared with the test that checks what each command loads.

// The Kubernetes client is one package of many modules, each re-exported by its index and none
// marked free of side effects: the agent's one class, KubeConfig, would bring all the generated API
// classes and models (600 KB) along. Its modules run nothing on import; marked so, the bundle keeps
// what KubeConfig uses.
const kubernetesClientModules = {
  name: "kubernetes-client-modules",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      const inClient = (path) => path.includes("@kubernetes/client-node")
      if (args.pluginData === "resolved" || !(inClient(args.path) || inClient(args.importer))) return undefined
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "resolved" })
      return resolved.errors.length > 0 || !inClient(resolved.path) ? undefined : { path: resolved.path, sideEffects: false }
    })
  }
}

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  sourcemap: true,
  // Minified, the bundle is a half of the size and pure ASCII, which V8 keeps one byte per
  // character: unminified, a comment's "ä" made it hold the 5 MB source as 10.8 MB of UTF-16.
  // Names are not kept: keepNames renames every closure as it is made, 15 % more CPU per event
  // (BENCHMARKS.md); the .map files map stack traces back (node --enable-source-maps). The
  // dependencies' license comments go to a .LEGAL.txt beside each file.
  minify: true,
  legalComments: "external",
  logLevel: "warning",
  metafile: true
}

/** `dist/main.js`: picks the command's bundle and runs it (it imports nothing else of ours). */
export const launcherOptions = { ...common, entryPoints: ["src/main.ts"], outfile: "dist/main.js", format: "esm" }

/**
 * `dist/commands/<command>.cjs`: one whole program per command (and `cli`, for the help), each
 * with only what its command runs. CommonJS, because the launcher runs them through V8's code
 * cache, which takes a script, not a module.
 */
export const commandOptions = {
  ...common,
  entryPoints: ["src/commands/run.ts", "src/commands/plan.ts", "src/commands/controller.ts", "src/commands/cli.ts"],
  outdir: "dist/commands",
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  // ws masks what the agent sends through its optional native "bufferutil"; ours is JS, word-wise.
  // KubeConfig imports node-fetch for requests the agent never makes through it: Node's own fetch serves.
  alias: { bufferutil: "./src/tunnel/Mask.ts", "node-fetch": "./src/kubernetes/NodeFetch.ts" },
  plugins: [kubernetesClientModules]
}
