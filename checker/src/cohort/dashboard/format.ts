/** "3 min ago", "5 h ago", "2 d ago": how long ago an ISO time was, short enough for a grid cell. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** 2026-11-28 20:15 UTC */
export function utc(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '';
}

export const score = (value: number, max: number): string =>
  `${Number(value.toFixed(1))}/${Number(max.toFixed(1))}`;
