/**
 * The start-up floor as a process of its own: `SIM_URL SIM_TOKEN CONTROLLER_URL`. Lists the
 * Ingresses, POSTs one sync, exits. Bundled into one file like the agent (see `floorStartupProcess`).
 */
import { floorStartup } from "./floor.js"

const [simUrl = "", simToken = "", controllerUrl = ""] = process.argv.slice(2)
await floorStartup(simUrl, simToken, controllerUrl)
process.exit(0)
