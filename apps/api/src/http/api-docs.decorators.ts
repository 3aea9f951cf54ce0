import { applyDecorators, HttpCode, Type } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
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
  @ApiProperty({ example: 400 })
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

export class SelfLinkDto {
  @ApiProperty({ example: 'http://localhost:8000/api/plan/1/' })
  self: string;
}

export class ListLinksDto {
  @ApiProperty({ example: 1, description: 'Items in the whole list, over all pages.' })
  count: number;
  @ApiProperty({ example: 'http://localhost:8000/api/plan/' })
  self: string;
  @ApiProperty({ type: String, nullable: true, example: null })
  previous: string | null;
  @ApiProperty({ type: String, nullable: true, example: null })
  next: string | null;
}

/** Documents the problem+json answers a route can give. 401 is added for every authenticated route. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...[401, ...statuses].map((status) =>
      ApiResponse({
        status,
        description: STATUS_CODES[status],
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
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

export const ApiListRoute = (item: Type, key: string, ...problems: number[]) =>
  applyDecorators(ApiOkResponse({ type: HalList(item, key) }), ApiProblems(400, ...problems));

export const ApiDetailRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(ApiOkResponse({ type: item }), ApiProblems(404, ...problems));

export const ApiCreateRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(
    ApiCreatedResponse({ type: item }),
    ApiProblems(400, 403, 409, 413, 415, ...problems),
  );

export const ApiUpdateRoute = (item: Type, ...problems: number[]) =>
  applyDecorators(
    ApiOkResponse({ type: item }),
    ApiProblems(400, 403, 404, 409, 413, 415, ...problems),
  );

export const ApiDeleteRoute = (...problems: number[]) =>
  applyDecorators(
    HttpCode(204),
    ApiNoContentResponse({ description: 'Deleted.' }),
    ApiProblems(403, 404, 409, ...problems),
  );
