/** The bundle `run` loads: the agent. */
import { Command } from "@effect/cli"
import { cliOf, runProgram } from "../cli/Program.js"
import { runAgent } from "../cli/RunAgent.js"
import { runCommand } from "../cli/RunCommand.js"

runProgram(cliOf([Command.withHandler(runCommand, runAgent)]))
