import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemDto } from '../http/api-docs.decorators';
import { MetricsService } from './metrics.service';

const EXAMPLE = `# HELP dbaas_http_request_duration_seconds HTTP request duration by method, route pattern and status code.
# TYPE dbaas_http_request_duration_seconds histogram
dbaas_http_request_duration_seconds_bucket{le="0.05",method="GET",route="/api/database/:id",status_code="200"} 12
dbaas_http_request_duration_seconds_count{method="GET",route="/api/database/:id",status_code="200"} 12
# TYPE dbaas_engine_operation_duration_seconds histogram
dbaas_engine_operation_duration_seconds_count{engine="postgresql",operation="createDatabase",outcome="success"} 3
# TYPE dbaas_engine_operation_errors_total counter
dbaas_engine_operation_errors_total{engine="redis",operation="ping",reason="unavailable"} 1
# TYPE dbaas_databases gauge
dbaas_databases{engine="postgresql",state="ready"} 2
# TYPE dbaas_credentials gauge
dbaas_credentials 3
`;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Prometheus scrape endpoint. */
@ApiTags('observability')
@ApiExtraModels(ProblemDto)
@Controller('metrics')
export class MetricsController {
  private readonly expected?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.metricsToken ? sha256(`Bearer ${config.metricsToken}`) : undefined;
  }

  @Get()
  @ApiOperation({
    operationId: 'get_metrics',
    summary: 'Prometheus metrics (no login; a bearer token if DBAAS_METRICS_TOKEN is set)',
    description:
      'HTTP request durations by route and status, engine operation durations and errors by engine and operation, databases by engine and state, credentials, and Node process metrics. Without DBAAS_METRICS_TOKEN anyone who reaches the port may scrape it: keep it off the public proxy.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4.',
    content: { 'text/plain': { schema: { type: 'string', example: EXAMPLE } } },
  })
  @ApiUnauthorizedResponse({
    description:
      'DBAAS_METRICS_TOKEN is set and the request lacks `Authorization: Bearer <token>`.',
    headers: {
      'WWW-Authenticate': {
        description: 'The scheme to use: `Bearer realm="dbaas-metrics"`.',
        schema: { type: 'string', example: 'Bearer realm="dbaas-metrics"' },
      },
    },
    content: {
      'application/problem+json': {
        schema: { $ref: getSchemaPath(ProblemDto) },
        example: {
          type: 'https://dbaas.dev/problems/unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'Send the metrics token as `Authorization: Bearer <token>`.',
        },
      },
    },
  })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (this.expected && !timingSafeEqual(sha256(authorization ?? ''), this.expected)) {
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="dbaas-metrics"')
        .type('application/problem+json')
        .send({
          type: 'https://dbaas.dev/problems/unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'Send the metrics token as `Authorization: Bearer <token>`.',
        });
      return;
    }
    const body = await this.metrics.render();
    await reply.status(200).type(this.metrics.contentType).send(body);
  }
}
