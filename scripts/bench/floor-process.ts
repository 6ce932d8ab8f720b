/**
 * The watch floor as a process of its own: `floor-process.ts SIM_URL SIM_TOKEN CONTROLLER_URL
 * RESOURCE_VERSION`. Prints one line once the watch is open; stops on SIGTERM.
 */
import { floorWatcher } from "./floor.js"

const [simUrl = "", simToken = "", controllerUrl = "", resourceVersion = ""] = process.argv.slice(2)
const stopped = new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()))
await floorWatcher(simUrl, simToken, controllerUrl, resourceVersion, stopped, () => process.stdout.write("watching\n"))
process.exit(0)
