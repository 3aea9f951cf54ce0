import { AuthenticatedUser, CurrentUser, OptionalLogin } from '@dbaas/auth';
import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { HealthDto, LivenessDto, ReadinessDto } from './health.dto';
import { ReadinessService } from './readiness.service';

/** Probes for load balancers and orchestrators: no login, no secrets. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get()
  @ApiOperation({
    operationId: 'get_health',
    summary: 'Whether the metadata store is reachable (no login needed)',
  })
  @ApiOkResponse({ type: HealthDto, description: 'The metadata store answers.' })
  @ApiServiceUnavailableResponse({
    description: 'The metadata store does not answer.',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(HealthDto) },
        example: { status: 'unavailable', store: 'down' },
      },
    },
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    if (await this.readiness.storeAnswers()) return { status: 'ok', store: 'up' };
    void reply.status(503);
    return { status: 'unavailable', store: 'down' };
  }

  @Get('live')
  @ApiOperation({
    operationId: 'get_health_live',
    summary: 'Liveness: the process is up and serving (no login needed)',
    description: 'Checks nothing else: restart the process only when this stops answering.',
  })
  @ApiOkResponse({ type: LivenessDto, description: 'The process is up.' })
  live(): LivenessDto {
    return { status: 'ok', uptime_seconds: Math.round(process.uptime() * 10) / 10 };
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'get_health_ready',
    summary: 'Readiness: the metadata store answers; every infra reported (no login needed)',
    description:
      'Send traffic while this answers 200. Each infra is pinged through its engine provider (2 s at most, the answer reused for 5 s) and reported with its version, but an unreachable engine does not make the API unready: only that engine’s databases fail (503), everything else works. With a dba’s Basic login, each infra also lists its security `warnings`; a missing or wrong login just leaves them out.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'The metadata store answers.' })
  @ApiServiceUnavailableResponse({
    description: 'The metadata store does not answer (no infra is probed then).',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ReadinessDto) },
        example: { status: 'unavailable', store: 'down', infras: [] },
      },
    },
  })
  @OptionalLogin()
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentUser() user: AuthenticatedUser | undefined,
  ): Promise<ReadinessDto> {
    const answer = await this.readiness.readiness({ withWarnings: user?.role === 'dba' });
    if (answer.store === 'down') void reply.status(503);
    return answer;
  }
}
