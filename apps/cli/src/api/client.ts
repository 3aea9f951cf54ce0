import { CliError, exitCodeForStatus, FailedError } from '../errors';
import { Login } from './config';

/** An engine read (infra detail) takes up to ~5 s; anything past this is a hung API. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** An RFC 9457 problem document as the API sends it. */
interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: Record<string, string[]>;
}

/** A list page: `{"_links": {"count": N, ...}, "<resource>": [...]}`. */
interface ListPage<T> {
  _links: { count: number };
  [resource: string]: T[] | { count: number };
}

/** The API refused or failed a request; the message is the problem's title and detail. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    problem: Problem | string | undefined,
  ) {
    super(ApiError.describe(status, problem), exitCodeForStatus(status));
  }

  private static describe(status: number, problem: Problem | string | undefined): string {
    if (!problem || typeof problem === 'string') return `the API answered ${status}`;
    const title = problem.title ?? `HTTP ${status}`;
    const lines = [problem.detail ? `${title}: ${problem.detail}` : title];
    for (const [field, messages] of Object.entries(problem.errors ?? {}))
      for (const message of messages) lines.push(`  ${field}: ${message}`);
    if (status === 401) lines.push('(check the user and password: run "dbaas login")');
    return lines.join('\n');
  }
}

/** Why a connection failed, without the stack: `connect ECONNREFUSED 127.0.0.1:9`. */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  if ((error as Error).name === 'TimeoutError')
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return cause?.message || cause?.code || (error as Error).message || String(error);
}

/** A small HTTP client for the dbaas REST API with Basic auth and problem+json errors. */
export class ApiClient {
  constructor(readonly login: Login) {}

  /** `/api/database/1/` or an absolute URL of this API. */
  url(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.login.url}${pathOrUrl}`;
  }

  async request<T = unknown>(
    method: string,
    pathOrUrl: string,
    body?: unknown,
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Basic ${Buffer.from(`${this.login.user}:${this.login.password}`).toString('base64')}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.url(pathOrUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new FailedError(`cannot reach the API at ${this.login.url}: ${networkCause(error)}`);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (response.status >= 400) throw new ApiError(response.status, parsed as Problem | string);
    if (response.status >= 300)
      throw new FailedError(
        `the API at ${this.login.url} answered ${response.status} (a redirect: is the URL right?)`,
      );
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get = <T = unknown>(path: string) => this.request<T>('GET', path).then((a) => a.body);

  /** Every item of a list resource, page by page (100 a page). */
  async list<T = unknown>(
    resource: string,
    query: Record<string, string | string[] | undefined> = {},
  ): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const params = new URLSearchParams({ page_size: '100', page: String(page) });
      for (const [key, value] of Object.entries(query)) {
        // A list repeats the parameter (`?tag=a&tag=b`).
        if (Array.isArray(value)) for (const item of value) params.append(key, item);
        else if (value !== undefined) params.set(key, value);
      }
      const body = await this.get<ListPage<T>>(`/api/${resource}/?${params.toString()}`);
      const chunk = (body[resource] ?? []) as T[];
      items.push(...chunk);
      if (!chunk.length || items.length >= body._links.count) return items;
    }
  }
}
