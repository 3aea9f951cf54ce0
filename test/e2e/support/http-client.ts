export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  ms: number;
}

export interface RequestOptions {
  /** `user:password`; omit for no Authorization header. */
  auth?: string | null;
  body?: unknown;
  /** Raw body, sent as is (with `contentType`). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A tiny client for the API under test, logged in as admin unless told otherwise. */
/** Every password any answer carried, so a test can check none reached a log. */
export const PASSWORDS_SEEN = new Set<string>();

function collectPasswords(value: unknown): void {
  if (Array.isArray(value)) value.forEach(collectPasswords);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'password' && typeof inner === 'string') PASSWORDS_SEEN.add(inner);
      else collectPasswords(inner);
    }
  }
}

export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly defaultAuth = 'admin:123456',
  ) {}

  as(auth: string | null): HttpClient {
    return new HttpClient(this.baseUrl, auth as string);
  }

  get = (path: string, options: RequestOptions = {}) => this.request('GET', path, options);
  post = (path: string, body?: unknown, options: RequestOptions = {}) =>
    this.request('POST', path, { ...options, body });
  put = (path: string, body?: unknown, options: RequestOptions = {}) =>
    this.request('PUT', path, { ...options, body });
  patch = (path: string, body?: unknown, options: RequestOptions = {}) =>
    this.request('PATCH', path, { ...options, body });
  delete = (path: string, options: RequestOptions = {}) => this.request('DELETE', path, options);

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.auth === undefined ? this.defaultAuth : options.auth;
    if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    let body: string | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const started = Date.now();
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    collectPasswords(parsed);
    return {
      status: response.status,
      headers: response.headers,
      body: parsed as any,
      text,
      ms: Date.now() - started,
    };
  }
}

/** Asserts an RFC 9457 answer with this status. */
export function expectProblem(answer: Answer, status: number): void {
  expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
  });
  expect(answer.body).toMatchObject({
    status,
    title: expect.any(String),
    type: expect.any(String),
    detail: expect.any(String),
  });
  expect(answer.text).not.toMatch(/\bat .*\.js:\d+/);
}
