import { BASIC_SECURITY_SCHEME } from '@dbaas/auth';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

const DESCRIPTION = `Self-service databases and credentials on PostgreSQL, MySQL/MariaDB, MongoDB and Redis.

Log in with HTTP Basic (sample data: \`admin\` / \`123456\`). Items and lists are HAL JSON;
references may be sent as an absolute URL, a path (\`/api/plan/1/\`) or a bare id. Every
error is RFC 9457 \`application/problem+json\`.`;

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('dbaas')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'HTTP Basic login' },
      BASIC_SECURITY_SCHEME,
    )
    .build();
  return tidy(SwaggerModule.createDocument(app, config));
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every authenticated POST honours Idempotency-Key (see IdempotencyInterceptor). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'Makes a retry safe: the same key with the same body replays the first answer; with another body, 422; while the first request still runs, 409. Kept 24 hours, per user.',
  schema: { type: 'string' as const, maxLength: 255, example: '6f1c2a4e-2b7d-4d8e-9a51-3c1f0e7b9d22' },
};

/**
 * Corrections the decorators cannot express. Every authenticated POST takes an
 * Idempotency-Key header. And two more: The Swagger CLI plugin adds a `200` to
 * every method whose `@HttpCode(204)` sits inside a composite decorator (it only sees the
 * decorators written on the method). And a route without `@Authenticated()` is public:
 * clients and linters need that said (`security: []`), not left unsaid.
 */
function tidy(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = path[method];
      if (!operation) continue;
      const ok = operation.responses['200'] as { description?: string; content?: unknown };
      if (operation.responses['204'] && ok && !ok.content && !ok.description)
        delete operation.responses['200'];
      operation.security ??= [];
      if (method === 'post' && operation.security.length) {
        operation.parameters = [...(operation.parameters ?? []), IDEMPOTENCY_KEY_PARAMETER];
        operation.responses['422'] ??= {
          description: 'The Idempotency-Key was already used for a different request.',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
        };
      }
    }
  }
  return document;
}

/** Swagger UI at /api/docs, the OpenAPI document at /api/docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    swaggerOptions: { persistAuthorization: true },
    customSiteTitle: 'dbaas API',
  });
}
