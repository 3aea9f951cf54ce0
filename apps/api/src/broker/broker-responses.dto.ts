import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const SERVICE_ID = '0f9c3a51-5f2d-5a47-9d3e-1c2b3a4d5e6f';
export const PLAN_ID = '7a1d2c3b-4e5f-5a6b-8c7d-9e0f1a2b3c4d';

/** The Open Service Broker error body (not problem+json). */
export class BrokerErrorDto {
  @ApiProperty({ example: 'AsyncRequired', description: 'Camel-case error code.' })
  error: string;
  @ApiProperty({ example: 'This request requires accepts_incomplete=true.' })
  description: string;
  @ApiPropertyOptional({ example: true, description: 'Deprovisioning errors only.' })
  instance_usable?: boolean;
}

export class CatalogPlanDto {
  @ApiProperty({ example: PLAN_ID })
  id: string;
  @ApiProperty({ example: 'postgresql-small-dev' })
  name: string;
  @ApiProperty({
    example:
      'PostgreSQL plan postgresql-small in dev, no size limit. Deprovisioning puts the database in quarantine (credentials disabled, no data dropped); a dba can restore it.',
  })
  description: string;
  @ApiProperty({ example: true })
  free: boolean;
  @ApiProperty({ example: false })
  plan_updateable: boolean;
  @ApiProperty({ type: 'integer', example: 600 })
  maximum_polling_duration: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { displayName: 'postgresql-small (dev)' },
  })
  metadata: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON schemas (draft 4) of the provisioning and binding parameters.',
    example: { service_instance: { create: { parameters: { type: 'object' } } } },
  })
  schemas: Record<string, unknown>;
}

export class CatalogServiceDto {
  @ApiProperty({ example: 'dbaas-postgresql' })
  name: string;
  @ApiProperty({ example: SERVICE_ID })
  id: string;
  @ApiProperty({ example: 'PostgreSQL databases from dbaas.' })
  description: string;
  @ApiProperty({ type: [String], example: ['postgresql', 'relational', 'sql', 'dbaas'] })
  tags: string[];
  @ApiProperty({ example: true })
  bindable: boolean;
  @ApiProperty({ example: true })
  instances_retrievable: boolean;
  @ApiProperty({ example: true })
  bindings_retrievable: boolean;
  @ApiProperty({ example: false })
  allow_context_updates: boolean;
  @ApiProperty({ example: false })
  plan_updateable: boolean;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { displayName: 'PostgreSQL (dbaas)' },
  })
  metadata: Record<string, unknown>;
  @ApiProperty({ type: [CatalogPlanDto] })
  plans: CatalogPlanDto[];
}

export class CatalogDto {
  @ApiProperty({ type: [CatalogServiceDto] })
  services: CatalogServiceDto[];
}

export class InstanceMetadataDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'dbaas-database': 'osb_1c2b3a4d5e6f47a8b9c0d1e2f3a4b5c6' },
  })
  labels: Record<string, string>;
}

/**
 * The answer to PUT and DELETE of an instance or binding: `{}` when done, `{operation}`
 * with 202, plus the instance's labels when it was provisioned.
 */
export class ServiceInstanceOperationDto {
  @ApiPropertyOptional({
    example: 'provision-5f0c2b1e9a7d4c3b',
    description: 'With 202 only: pass it to last_operation.',
  })
  operation?: string;
  @ApiPropertyOptional({ type: InstanceMetadataDto })
  metadata?: InstanceMetadataDto;
}

export class ServiceInstanceDto {
  @ApiProperty({ example: SERVICE_ID })
  service_id: string;
  @ApiProperty({ example: PLAN_ID })
  plan_id: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { name: 'orders' } })
  parameters: Record<string, unknown>;
  @ApiProperty({ type: InstanceMetadataDto })
  metadata: InstanceMetadataDto;
}

export class LastOperationDto {
  @ApiProperty({ enum: ['in progress', 'succeeded', 'failed'], example: 'succeeded' })
  state: string;
  @ApiPropertyOptional({ example: 'The database osb_1c2b3a4d5e6f47a8b9c0d1e2f3a4b5c6 is ready.' })
  description?: string;
  @ApiPropertyOptional({ example: true, description: 'Failed deprovisioning only.' })
  instance_usable?: boolean;
}

export class BindingCredentialsDto {
  @ApiProperty({ example: 'postgresql://b_3f2a:secret@db.example.com:5432/orders' })
  uri: string;
  @ApiProperty({ example: 'b_3f2a9c0d1e2f3a4b5c6d7e8f9a0b' })
  username: string;
  @ApiProperty({ example: 'Xk3mQ9vR7tW2pL8nB4cH6jD5' })
  password: string;
  @ApiProperty({ example: 'db.example.com' })
  host: string;
  @ApiProperty({ type: 'integer', example: 5432 })
  port: number;
  @ApiProperty({ example: 'orders', description: 'For Redis: the key prefix name.' })
  database: string;
  @ApiPropertyOptional({
    example: 'jdbc:postgresql://db.example.com:5432/orders?user=b_3f2a&password=secret',
    description: 'PostgreSQL and MySQL only.',
  })
  jdbcUrl?: string;
  @ApiPropertyOptional({
    example: 'cache:',
    description: 'Redis only: every key must start with it.',
  })
  key_prefix?: string;
  @ApiProperty({ type: [String], example: ['db.example.com:5432'] })
  hosts: string[];
}

export class BindingEndpointDto {
  @ApiProperty({ example: 'db.example.com' })
  host: string;
  @ApiProperty({ type: [String], example: ['5432'] })
  ports: string[];
  @ApiProperty({ example: 'tcp' })
  protocol: string;
}

export class ServiceBindingDto {
  @ApiProperty({ type: BindingCredentialsDto })
  credentials: BindingCredentialsDto;
  @ApiProperty({ type: [BindingEndpointDto] })
  endpoints: BindingEndpointDto[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { privileges: 'owner' },
    description: 'On GET only.',
  })
  parameters?: Record<string, unknown>;
}

/** `{}`: the body of a finished unbind. */
export class BrokerEmptyDto {}
