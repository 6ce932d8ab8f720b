/**
 * The bundle for everything that runs no command: the help (`--help`, `<command> --help`, no
 * arguments), `--version`, and the error for an unknown command. The commands are parsed only.
 */
import { controllerCommand } from "../cli/ControllerCommand.js"
import { planCommand } from "../cli/PlanCommand.js"
import { cliOf, runProgram } from "../cli/Program.js"
import { runCommand } from "../cli/RunCommand.js"

runProgram(cliOf([runCommand, planCommand, controllerCommand]))
