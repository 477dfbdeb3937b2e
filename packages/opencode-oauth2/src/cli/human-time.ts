/** Durations and instants for people: "in 4 min", "expired 2 h ago", "in 3 d". */

/** A duration in the largest unit that keeps it readable: 45 s, 4 min, 2 h 5 min, 3 d. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest && hours < 10 ? `${hours} h ${rest} min` : `${hours} h`;
  }
  return `${Math.round(hours / 24)} d`;
}

/** "in 4 min" for a future instant, "expired 2 h ago" for a past one. */
export function formatExpiry(expiresAt: number | undefined, now: number): string {
  if (expiresAt === undefined) return "no expiry given";
  const delta = expiresAt - now;
  return delta > 0 ? `in ${formatDuration(delta)}` : `expired ${formatDuration(delta)} ago`;
}

/** The local wall-clock time of an instant, e.g. "17:04" (with the date when not today). */
export function formatClock(at: number, now: number): string {
  const date = new Date(at);
  const time = date.toTimeString().slice(0, 5);
  return date.toDateString() === new Date(now).toDateString()
    ? time
    : `${date.toISOString().slice(0, 10)} ${time}`;
}
