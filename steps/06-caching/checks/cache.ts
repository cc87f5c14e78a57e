import { sandbox } from '@sandbox/harness';

/** Every Redis key of the cache (cache:*) that names `id`. */
export async function cacheKeysFor(id: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await sandbox().redis.call(
      'SCAN',
      cursor,
      'MATCH',
      `cache:*${id}*`,
      'COUNT',
      1000,
    )) as [string, string[]];
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}
