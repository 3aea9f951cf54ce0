import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';

class HealthDto {
  status: 'ok' | 'unavailable';
  store: 'up' | 'down';
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly store: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Whether the metadata store is reachable (no login needed)' })
  @ApiOkResponse({ type: HealthDto, schema: { example: { status: 'ok', store: 'up' } } })
  @ApiServiceUnavailableResponse({
    type: HealthDto,
    description: 'The metadata store does not answer.',
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    try {
      await this.store.query('SELECT 1');
      return { status: 'ok', store: 'up' };
    } catch {
      void reply.status(503);
      return { status: 'unavailable', store: 'down' };
    }
  }
}
