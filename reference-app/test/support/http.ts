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
