import { applyDecorators, HttpCode, Type } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';

/** RFC 9457 problem details, the body of every error. */
export class ProblemDto {
  @ApiProperty({ example: 'https://dbaas.dev/problems/validation-error' })
  type: string;
  @ApiProperty({ example: 'Bad Request' })
  title: string;
  @ApiProperty({ type: 'integer', example: 400 })
  status: number;
  @ApiProperty({ example: 'The request is invalid.' })
  detail: string;
  @ApiPropertyOptional({
    description: 'Field-level messages, for validation errors.',
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    example: { name: ['must be a string'] },
  })
  errors?: Record<string, string[]>;
}

const selfLinkClasses = new Map<string, Type>();

/**
 * `_links` of one resource's items, `{self: <URL of the item>}`, with an example of that
 * resource (`DatabaseLinksDto`: `http://localhost:8000/api/database/1/`).
 */
export function SelfLink(resource: string): Type {
  const name = `${resource.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())}LinksDto`;
  const existing = selfLinkClasses.get(name);
  if (existing) return existing;
  class Links {
    self: string;
  }
  ApiProperty({
    type: String,
    example: `http://localhost:8000/api/${resource}/1/`,
    description: 'The URL of this item.',
  })(Links.prototype, 'self');
  Object.defineProperty(Links, 'name', { value: name });
  selfLinkClasses.set(name, Links);
  return Links;
}

export class ListLinksDto {
  @ApiProperty({
    type: 'integer',
    example: 1,
    description: 'Items in the whole list, over all pages.',
  })
  count: number;
  @ApiProperty({ example: 'http://localhost:8000/api/plan/' })
  self: string;
  @ApiProperty({ type: String, nullable: true, example: null })
  previous: string | null;
  @ApiProperty({ type: String, nullable: true, example: null })
  next: string | null;
}

/** `Retry-After` on 429 and 503 answers: whole seconds to wait before retrying. */
export const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer' as const, minimum: 1, example: 60 },
  },
};

interface ErrorDoc {
  /** When the API gives this status, in a sentence. */
  description: string;
  /** The problem `type` slug and `detail` of a typical answer. */
  slug: string;
  detail: string;
  errors?: Record<string, string[]>;
}

/**
 * What each error status means in this API, with a real answer as its example (the same
 * `type`, `title` and `detail` the problem filter sends; see problem.ts).
 */
export const ERROR_DOCS: Record<number, ErrorDoc> = {
  400: {
    description: 'The request is invalid: `errors` names each field that is wrong and why.',
    slug: 'validation-error',
    detail: 'The request is invalid.',
    errors: { name: ['must be a string'] },
  },
  401: {
    description:
      'No login, or a wrong user name or password (HTTP Basic); the answer has `WWW-Authenticate`.',
    slug: 'unauthorized',
    detail: 'A valid login is required (HTTP Basic).',
  },
  403: {
    description: 'Logged in, but this user may not do this (most writes need the dba role).',
    slug: 'forbidden',
    detail: 'Only a dba may change this.',
  },
  404: {
    description: 'No such item, or one this user may not see.',
    slug: 'not-found',
    detail: 'database 42 not found.',
  },
  409: {
    description:
      'The request conflicts with the current state: a name in use, an item still referenced, a database in the wrong state, or the same Idempotency-Key still running.',
    slug: 'conflict',
    detail: 'A database named orders already exists in this environment.',
  },
  412: {
    description: 'The X-Broker-API-Version header is missing or older than 2.13.',
    slug: 'precondition-failed',
    detail:
      'The X-Broker-API-Version header is required, and must be 2.13 or later (this broker implements 2.17).',
  },
  413: {
    description: 'The body is larger than the server accepts (DBAAS_BODY_LIMIT_BYTES).',
    slug: 'payload-too-large',
    detail: 'The request body is larger than the server accepts.',
  },
  415: {
    description: 'The body is not sent as `application/json`.',
    slug: 'unsupported-media-type',
    detail: 'Send the body as application/json (UTF-8).',
  },
  422: {
    description:
      'Understood but not possible: the Idempotency-Key was already used for a different request, or the request does not fit the item (e.g. restoring a live database).',
    slug: 'idempotency-key-reused',
    detail: 'This Idempotency-Key was already used for a different request.',
  },
  429: {
    description:
      'Too many failed logins for this user name from this address: wait `Retry-After` seconds.',
    slug: 'too-many-requests',
    detail: 'Too many failed logins: try again later.',
  },
  502: {
    description:
      'The engine server answered but refused the operation; details are in the server log.',
    slug: 'engine-error',
    detail: 'The engine server refused the operation; see the server log.',
  },
  503: {
    description:
      'The engine server (or the metadata store) is not reachable, or no infra has room: retry after `Retry-After` seconds.',
    slug: 'engine-unavailable',
    detail: 'The database engine is not reachable right now; retry shortly.',
  },
};

/** The headers that come with an error status. */
export function errorHeaders(status: number) {
  if (status === 429 || status === 503) return RETRY_AFTER_HEADER;
  if (status === 401)
    return {
      'WWW-Authenticate': {
        description: 'The login scheme: `Basic realm="dbaas"`.',
        schema: { type: 'string' as const, example: 'Basic realm="dbaas"' },
      },
    };
  return undefined;
}

/** The example problem document of one status. */
export function problemExample(status: number) {
  const doc = ERROR_DOCS[status];
  return {
    type: `https://dbaas.dev/problems/${doc.slug}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: doc.detail,
    ...(doc.errors ? { errors: doc.errors } : {}),
  };
}

/** One documented problem+json answer: its meaning, its headers and its own example. */
export function problemResponse(status: number) {
  return {
    description: ERROR_DOCS[status].description,
    headers: errorHeaders(status),
    content: {
      'application/problem+json': {
        schema: { $ref: getSchemaPath(ProblemDto) },
        example: problemExample(status),
      },
    },
  };
}

/**
 * Documents the problem+json answers a route can give. 401 and 429 (login throttling) are
 * added for every authenticated route.
 */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...[...new Set([401, 429, ...statuses])]
      .sort()
      .map((status) => ApiResponse({ status, ...problemResponse(status) })),
  );
}

/** `Location`: the URL of the item just created (201), with an example of that resource. */
export function locationHeader(item: Type) {
  // DatabaseDto → database, EngineTypeDto → engine_type, CredentialWithPasswordDto → credential.
  const resource = item.name
    .replace(/(WithPassword)?Dto$/, '')
    .replace(/(?<=.)([A-Z])/g, '_$1')
    .toLowerCase();
  return {
    Location: {
      description: 'The URL of the new item (its `_links.self`).',
      schema: {
        type: 'string' as const,
        format: 'uri',
        example: `http://localhost:8000/api/${resource}/1/`,
      },
    },
  };
}

const listClasses = new Map<string, Type>();

/** The HAL list envelope for one resource: `{_links: {...}, <key>: [items]}`. */
export function HalList(item: Type, key: string): Type {
  const name = `${item.name.replace(/Dto$/, '')}ListDto`;
  const existing = listClasses.get(name);
  if (existing) return existing;
  class List {
    @ApiProperty({ type: ListLinksDto })
    _links: ListLinksDto;
  }
  ApiProperty({ type: item, isArray: true })(List.prototype, key);
  Object.defineProperty(List, 'name', { value: name });
  listClasses.set(name, List);
  return List;
}

/** The `{id}` path segment: a positive 32-bit integer (IdPipe answers 404 to anything else). */
export const ApiIdParam = () =>
  ApiParam({
    name: 'id',
    schema: { type: 'integer', minimum: 1, maximum: 2_147_483_647, example: 1 },
  });

export const ApiListRoute = (item: Type, key: string, ...problems: number[]) =>
  applyDecorators(ApiOkResponse({ type: HalList(item, key) }), ApiProblems(400, ...problems));

export const ApiDetailRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(ApiIdParam(), ApiOkResponse({ type: item }), ApiProblems(404, ...problems));

export const ApiCreateRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(
    ApiCreatedResponse({ type: item, description: 'Created.', headers: locationHeader(item) }),
    ApiProblems(400, 403, 409, 413, 415, ...problems),
  );

export const ApiUpdateRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(
    ApiIdParam(),
    ApiOkResponse({ type: item }),
    ApiProblems(400, 403, 404, 409, 413, 415, ...problems),
  );

export const ApiDeleteRoute = (...problems: number[]) =>
  applyDecorators(
    HttpCode(204),
    ApiIdParam(),
    ApiNoContentResponse({ description: 'Deleted.' }),
    ApiProblems(403, 404, 409, ...problems),
  );
