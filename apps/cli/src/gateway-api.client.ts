/** An answer of the management API other than 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status} ${message}`);
  }
}

/** The operator CLI's client of the management API (GATEWAY_API_URL, GATEWAY_API_TOKEN). */
export class GatewayApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams(Object.entries(query).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
    const qs = params.size > 0 ? `?${params}` : '';
    return this.call<T>('GET', `${path}${qs}`);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) throw new ApiError(401, 'GATEWAY_API_TOKEN is not set: export one of the gateway’s API_TOKENS');
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Error(`cannot reach the management API at ${this.baseUrl} (GATEWAY_API_URL): ${cause}`, { cause: err });
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (!res.ok) {
      const message = (data as { message?: unknown } | undefined)?.message;
      throw new ApiError(res.status, Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : res.statusText);
    }
    return data as T;
  }
}
