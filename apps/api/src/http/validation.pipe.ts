import { ValidationFailedError } from '@dbaas/core';
import { ArgumentMetadata, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

function collect(errors: ValidationError[], prefix: string, out: Record<string, string[]>): void {
  for (const error of errors) {
    const field = error.property
      ? `${prefix}${error.property}`
      : prefix.replace(/\.$/, '') || 'body';
    const messages = Object.entries(error.constraints ?? {}).map(([name, message]) => {
      if (name === 'whitelistValidation') return 'is not a known field';
      if (name === 'unknownValue') return 'must be a JSON object';
      // class-validator starts its messages with the property name; the key already says it.
      return message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message;
    });
    if (messages.length) out[field] = [...new Set([...(out[field] ?? []), ...messages])];
    if (error.children?.length) collect(error.children, `${field}.`, out);
  }
}

/** Keys class-transformer silently drops; refused like any unknown field instead. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The path of the first prototype key, or of the first string with a NUL character (PostgreSQL cannot store one). */
function nulPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (PROTOTYPE_KEYS.has(key)) return path ? `${path}.${key}` : key;
      const found = nulPath(inner, path ? `${path}.${key}` : key);
      if (found !== null) return found;
    }
  }
  return null;
}

const UNKNOWN_FIELDS_IGNORED = Symbol('unknown fields ignored');

/**
 * On a request DTO: unknown top-level fields are dropped instead of refused. The Open
 * Service Broker spec says extension fields must be ignored; everything the DTO declares,
 * nested DTOs included (the `parameters`), is still checked strictly.
 */
export function IgnoresUnknownFields(): ClassDecorator {
  return (target) => Reflect.defineMetadata(UNKNOWN_FIELDS_IGNORED, true, target);
}

/** The body with only the fields its DTO declares, when the DTO ignores unknown fields. */
function withoutUnknownFields(type: Type | undefined, body: object): object {
  if (!type || !Reflect.getMetadata(UNKNOWN_FIELDS_IGNORED, type)) return body;
  const known = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(type, '', true, false)
      .map((rule) => rule.propertyName),
  );
  return Object.fromEntries(Object.entries(body).filter(([key]) => known.has(key)));
}

/**
 * A JSON body must be an object; arrays and scalars are refused before field checks, and
 * so is any string with a NUL character, in a body or a query.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Path segments stay raw strings for their own pipes (IdPipe): converting " 1" or "0x1"
    // to a number here would make them name a resource.
    if (metadata.type === 'param') return value;
    const isClassBody =
      metadata.type === 'body' && (this.expectedType ?? metadata.metatype) !== Object;
    if (isClassBody && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ValidationFailedError({ body: ['must be a JSON object'] });
    }
    const nul = metadata.type === 'body' || metadata.type === 'query' ? nulPath(value, '') : null;
    if (nul !== null) {
      const field = nul || metadata.type;
      const last = field.split('.').pop()!;
      throw new ValidationFailedError({
        [field]: [
          PROTOTYPE_KEYS.has(last) ? 'is not a known field' : 'must not contain NUL characters',
        ],
      });
    }
    const body = isClassBody
      ? withoutUnknownFields(this.expectedType ?? metadata.metatype, value as object)
      : value;
    return super.transform(body, metadata);
  }
}

/** Strict input: unknown fields and wrong types are a 400 with `errors: {field: [messages]}`. */
export function strictValidationPipe(expectedType?: Type): ValidationPipe {
  return new StrictValidationPipe({
    expectedType,
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => {
      const out: Record<string, string[]> = {};
      collect(errors, '', out);
      return new ValidationFailedError(out);
    },
  });
}
