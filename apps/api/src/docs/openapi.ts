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

/**
 * Two corrections the decorators cannot express. The Swagger CLI plugin adds a `200` to
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
