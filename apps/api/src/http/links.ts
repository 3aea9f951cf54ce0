import { PageRequest } from '@dbaas/core';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** DBAAS_PUBLIC_URL, or null: decorated by createApp. */
    publicUrl: string | null;
  }
}

export interface ListLinks {
  count: number;
  self: string;
  previous: string | null;
  next: string | null;
}

/**
 * Builds the absolute URLs of the HAL representation for one request. They start with
 * DBAAS_PUBLIC_URL when it is set; otherwise with the request's scheme and host, which
 * honour X-Forwarded-Proto / X-Forwarded-Host from a trusted proxy (DBAAS_TRUST_PROXY).
 */
export class Links {
  constructor(
    readonly base: string,
    private readonly path: string,
    private readonly query: URLSearchParams,
  ) {}

  static of(request: FastifyRequest): Links {
    const [path, query = ''] = request.url.split('?');
    const base = request.server.publicUrl ?? `${request.protocol}://${request.host}`;
    return new Links(base, path, new URLSearchParams(query));
  }

  /** `http://host/api/<resource>/<id>/`, or null when there is no reference. */
  to(resource: string, id: number): string;
  to(resource: string, id: number | null | undefined): string | null;
  to(resource: string, id: number | null | undefined): string | null {
    return id === null || id === undefined ? null : `${this.base}/api/${resource}/${id}/`;
  }

  /** An item: `_links.self` first, then its fields. */
  item<T extends { id: number }>(resource: string, fields: T): { _links: { self: string } } & T {
    return { _links: { self: this.to(resource, fields.id) }, ...fields };
  }

  /** A list keyed by the resource name, as in the seed. */
  list<T>(resource: string, page: PageRequest, count: number, items: T[]) {
    const lastPage = Math.max(1, Math.ceil(count / page.pageSize));
    const _links: ListLinks = {
      count,
      self: this.withQuery({}),
      previous:
        page.page > 1 ? this.withQuery({ page: String(Math.min(page.page - 1, lastPage)) }) : null,
      next: page.page < lastPage ? this.withQuery({ page: String(page.page + 1) }) : null,
    };
    return { _links, [resource]: items };
  }

  private withQuery(changes: Record<string, string>): string {
    const query = new URLSearchParams(this.query);
    for (const [key, value] of Object.entries(changes)) query.set(key, value);
    const text = query.toString();
    return `${this.base}${this.path}${text ? `?${text}` : ''}`;
  }
}

/** The request's Links, as a handler parameter. */
export const RequestLinks = createParamDecorator((_: unknown, context: ExecutionContext) =>
  Links.of(context.switchToHttp().getRequest<FastifyRequest>()),
);
