/** Types for parse-prometheus-text-format, which ships none. */
declare module "parse-prometheus-text-format" {
  interface ParsedMetric {
    readonly labels?: Readonly<Record<string, string>>
    readonly value?: string
  }
  interface ParsedFamily {
    readonly name: string
    readonly help: string
    readonly type: string
    readonly metrics: ReadonlyArray<ParsedMetric>
  }
  /** Parses Prometheus text exposition; throws on malformed input. */
  export default function parsePrometheusTextFormat(text: string): ReadonlyArray<ParsedFamily>
}
