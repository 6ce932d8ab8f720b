/** The bundle `plan` loads: manifests in, the routes out; no Kubernetes client. */
import { Command } from "@effect/cli"
import { planCommand } from "../cli/PlanCommand.js"
import { cliOf, runProgram } from "../cli/Program.js"
import { printPlan } from "../plan/PlanProgram.js"

runProgram(cliOf([Command.withHandler(planCommand, printPlan)]))
