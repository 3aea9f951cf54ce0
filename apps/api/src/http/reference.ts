import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

const MAX_ID = 2_147_483_647;

/**
 * A reference may be an absolute URL (`http://host/api/plan/1/`), a path
 * (`/api/plan/1/`) or a bare id (`1` or `"1"`). Returns the id, or NaN when the
 * value is none of these or points at another resource.
 */
export function parseReference(value: unknown, resource: string): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  let path = text;
  if (/^https?:\/\//i.test(text)) {
    try {
      path = new URL(text).pathname;
    } catch {
      return NaN;
    }
  }
  const match = new RegExp(`^/api/${resource}/(\\d{1,10})/?$`).exec(path);
  return match ? Number(match[1]) : NaN;
}

const referenceMessage = (resource: string) =>
  `must be a URL, a path like /api/${resource}/1/, or an id`;

/** Accepts any reference form on input and hands the handler the id. */
export function Reference(resource: string, options: { each?: boolean } = {}): PropertyDecorator {
  const message = referenceMessage(resource);
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      value === null || value === undefined
        ? value
        : options.each && Array.isArray(value)
          ? value.map((item) => parseReference(item, resource))
          : options.each
            ? value
            : parseReference(value, resource),
    ),
    IsInt({ each: options.each, message }),
    Min(1, { each: options.each, message }),
    Max(MAX_ID, { each: options.each, message }),
  );
}
