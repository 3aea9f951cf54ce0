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
  return SwaggerModule.createDocument(app, config);
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
