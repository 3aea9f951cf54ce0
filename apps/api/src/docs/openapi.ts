import { BASIC_SECURITY_SCHEME } from '@dbaas/auth';
import { ENGINE_TYPES } from '@dbaas/engines';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { problemResponse } from '../http/api-docs.decorators';

const DESCRIPTION = `Self-service databases and credentials on PostgreSQL, MySQL/MariaDB, MongoDB and Redis.

Log in with HTTP Basic (sample data: \`admin\` / \`123456\`). Items and lists are HAL JSON;
references may be sent as an absolute URL, a path (\`/api/plan/1/\`) or a bare id. Every
error is RFC 9457 \`application/problem+json\`.`;

/**
 * The tags, in the order Swagger UI and generators show them: what users work with first,
 * then the catalog a dba keeps, then the machine-facing endpoints, `health` last.
 */
export const TAGS: { name: string; description: string }[] = [
  {
    name: 'database',
    description: 'Databases on the engines: create, list, quarantine, restore, delete.',
  },
  {
    name: 'credential',
    description:
      'Users on a database’s engine, with their passwords and a ready-made connection URI.',
  },
  {
    name: 'task',
    description: 'The history of every change made on an engine, with its status and error.',
  },
  {
    name: 'backup',
    description:
      'Backups of a database taken with its engine’s own tools, sealed and stored; restore one in place.',
  },
  {
    name: 'plan',
    description: 'Catalog: what a database may be created as (engine, size limit, infras).',
  },
  {
    name: 'environment',
    description:
      'Catalog: where databases live (dev, prod, ...); part of every database name’s scope.',
  },
  {
    name: 'engine_type',
    description: `Catalog: the kinds of engine (${ENGINE_TYPES.join(', ')}).`,
  },
  { name: 'engine', description: 'Catalog: engine versions of an engine type.' },
  {
    name: 'infra',
    description:
      'Catalog: engine servers that hold databases, with their capacity and live status (dba).',
  },
  { name: 'project', description: 'Projects that group databases.' },
  { name: 'team', description: 'Teams: which users see which databases.' },
  { name: 'user', description: 'Users, their roles and teams, and password changes.' },
  {
    name: 'broker',
    description:
      'The Open Service Broker API (v2.13+), for platforms such as Cloud Foundry and Kubernetes.',
  },
  { name: 'observability', description: 'Prometheus metrics.' },
  { name: 'health', description: 'Liveness and readiness probes, without login.' },
];

/**
 * `servers`: DBAAS_PUBLIC_URL when it is set (the address clients use behind a proxy),
 * else `/`, which generators and Swagger UI read as "the host that served this document".
 */
export function serverOf(publicUrl: string | null | undefined) {
  return publicUrl
    ? { url: publicUrl, description: 'This dbaas (DBAAS_PUBLIC_URL).' }
    : { url: '/', description: 'The host that serves this document.' };
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const publicUrl = (app.getHttpAdapter().getInstance() as { publicUrl?: string | null }).publicUrl;
  const builder = new DocumentBuilder()
    .setTitle('dbaas')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer(serverOf(publicUrl).url, serverOf(publicUrl).description)
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'HTTP Basic login' },
      BASIC_SECURITY_SCHEME,
    );
  for (const tag of TAGS) builder.addTag(tag.name, tag.description);
  return tidy(SwaggerModule.createDocument(app, builder.build()));
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every authenticated POST honours Idempotency-Key (see IdempotencyInterceptor). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'Makes a retry safe: the same key with the same body replays the first answer; with another body, 422; while the first request still runs, 409. Kept 24 hours, per user.',
  schema: {
    type: 'string' as const,
    maxLength: 255,
    example: '6f1c2a4e-2b7d-4d8e-9a51-3c1f0e7b9d22',
  },
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
        if (!operation.tags?.includes('broker'))
          operation.responses['422'] ??= problemResponse(422);
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
