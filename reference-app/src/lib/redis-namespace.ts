/**
 * Redis names (queue, pub/sub channel) derived from the database name: instances that share a
 * database share jobs and events; apps on other databases sharing one Redis never see them.
 */
export function redisNamespace(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'default';
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
