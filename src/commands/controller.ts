/** The bundle `controller` loads: the reference controller. */
import { Command } from "@effect/cli"
import { controllerCommand } from "../cli/ControllerCommand.js"
import { cliOf, runProgram } from "../cli/Program.js"
import { serveController } from "../reference-controller/Main.js"

runProgram(cliOf([Command.withHandler(controllerCommand, serveController)]))
