import { PageRequest } from '@dbaas/core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

/**
 * Plain digits become a number; anything else stays a string and fails @IsInt, where
 * Number() would read "1e3", "0x10", " 1" or "" as numbers.
 */
const WholeNumber = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  );

/** `?page=` and `?page_size=` on every list. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, default: 1, example: 1 })
  @IsOptional()
  @WholeNumber()
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    example: 10,
  })
  @IsOptional()
  @WholeNumber()
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  page_size?: number;
}

export function pageOf(query: PageQueryDto): PageRequest {
  return { page: query.page ?? 1, pageSize: query.page_size ?? DEFAULT_PAGE_SIZE };
}
