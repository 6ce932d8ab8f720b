import type { BuildOptions } from "esbuild"

export declare const launcherOptions: BuildOptions
export declare const commandOptions: BuildOptions
