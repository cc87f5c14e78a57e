/** A failed call to the cohort service, with the service's error code when it sent one. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the service; JSON in and out; the service's `{"error":{code,message}}` becomes a ServiceError. */
export async function call<T>(
  server: string,
  method: string,
  route: string,
  opts: {
    token?: string;
    json?: unknown;
    body?: Buffer;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body) {
    headers['content-type'] = 'application/gzip';
    body = opts.body;
  }
  let res: Response;
  try {
    res = await fetch(new URL(route, server), {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new ServiceError(
      0,
      'UNREACHABLE',
      `the cohort service at ${server} did not answer (${cause ?? (e as Error).message})`,
    );
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ServiceError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? `${method} ${route} answered ${res.status}`,
    );
  }
  return parsed as T;
}
