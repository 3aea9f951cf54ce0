import { ValidationFailedError } from '@dbaas/core';
import { ArgumentMetadata, Type, ValidationError, ValidationPipe } from '@nestjs/common';

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

/** A JSON body must be an object; arrays and scalars are refused before field checks. */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isClassBody =
      metadata.type === 'body' && (this.expectedType ?? metadata.metatype) !== Object;
    if (isClassBody && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ValidationFailedError({ body: ['must be a JSON object'] });
    }
    return super.transform(value, metadata);
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
