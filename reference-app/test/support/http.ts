export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, with Content-Type: application/json (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One HTTP call; the body is parsed as JSON when there is one. */
export async function request<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : undefined) as T;
  return { status: response.status, headers: response.headers, body, text };
}

/** A client bound to one app (and optionally one token). */
export function client(baseUrl: string, token?: string) {
  const call =
    (method: string) =>
    <T = unknown>(path: string, options: RequestOptions = {}) =>
      request<T>(baseUrl, method, path, { token, ...options });
  return { get: call('GET'), post: call('POST'), patch: call('PATCH'), delete: call('DELETE') };
}

/** A call by full URL, answering a JSON object: POST when there is a body, else GET, unless `method` says. */
export function json(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<JsonResponse<Record<string, unknown>>> {
  const { origin, pathname, search } = new URL(url);
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  return request<Record<string, unknown>>(origin, method, `${pathname}${search}`, {
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(init.token ? { token: init.token } : {}),
  });
}
