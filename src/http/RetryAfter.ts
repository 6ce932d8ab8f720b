/**
 * The HTTP `Retry-After` header, which the controller and the API server both send.
 */
import { Option } from "effect"

/**
 * A `Retry-After` header in milliseconds from now: delay-seconds or an HTTP-date. `None` when
 * absent or unreadable.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Option.Option<number> => {
  if (value === undefined || value.trim() === "") return Option.none()
  const text = value.trim()
  if (/^\d+$/.test(text)) return Option.some(Number(text) * 1000)
  const date = Date.parse(text)
  return Number.isNaN(date) ? Option.none() : Option.some(Math.max(0, date - nowMillis))
}
