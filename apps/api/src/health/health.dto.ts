import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const READINESS_ERRORS = [
  'timeout',
  'connection refused',
  'host not found',
  'host unreachable',
  'unavailable',
  'refused',
  'error',
] as const;
export type ReadinessError = (typeof READINESS_ERRORS)[number];

/** `GET /health`: the metadata store answers (kept for existing probes and the image's HEALTHCHECK). */
export class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'], example: 'ok' })
  status: 'ok' | 'unavailable';
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  store: 'up' | 'down';
}

/** `GET /health/live`: the process runs and its event loop answers. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';
  @ApiProperty({ example: 3600.5, description: 'Seconds since the process started.' })
  uptime_seconds: number;
}

/** One infra as seen by the readiness probe, through its engine provider's ping. */
export class InfraReadinessDto {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'postgresql-dev-local' })
  name: string;
  @ApiProperty({ example: 'postgresql' })
  engine: string;
  @ApiProperty({ example: true })
  reachable: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '15.14',
    description: 'The engine server version, when reachable.',
  })
  version: string | null;
  @ApiProperty({
    enum: READINESS_ERRORS,
    nullable: true,
    example: null,
    description:
      'Why it is unreachable: no answer within 2 s; nothing listens at the address (`connection refused`), the host name is unknown or has no route; the driver could not connect (`unavailable`); the admin login or a statement was refused (`refused`); or another error. The full message is in `dbaas infra check` and `GET /api/infra/{id}/`.',
  })
  error: ReadinessError | null;
  @ApiPropertyOptional({
    type: [String],
    example: ['The Redis default user is enabled without a password: ...'],
    description:
      'Only when the caller sends a dba login: how the engine leaves its tenants unprotected (see `GET /api/infra/{id}/`); empty when nothing was found or unreachable.',
  })
  warnings?: string[];
}

/**
 * `GET /health/ready`: 200 while the metadata store answers, 503 otherwise. Infras are
 * reported but never make the API unready: an engine down only fails its own databases.
 * Each infra's probe is reused for 5 s.
 */
export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'unavailable'], example: 'ok' })
  status: 'ok' | 'unavailable';
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  store: 'up' | 'down';
  @ApiProperty({
    type: InfraReadinessDto,
    isArray: true,
    description: 'Every infra with its reachability; empty when the store is down.',
  })
  infras: InfraReadinessDto[];
}
