/**
 * The next wall-clock multiple of the interval strictly after `now`
 * (14:07 → 14:15, 14:15 → 14:30 for 15 minutes), as the reference scheduled.
 * Alignment is to UTC multiples of the interval since the epoch.
 */
export function nextAlignedTick(now: Date, intervalMs: number): Date {
  const t = now.getTime();
  return new Date((Math.floor(t / intervalMs) + 1) * intervalMs);
}

/** `2026-11-21 14:15:00`, the reference's log format (UTC). */
export function formatScheduleTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}
