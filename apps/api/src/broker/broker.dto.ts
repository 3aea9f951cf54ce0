import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

const SERVICE_ID = '0f9c3a51-5f2d-5a47-9d3e-1c2b3a4d5e6f';
const PLAN_ID = '7a1d2c3b-4e5f-5a6b-8c7d-9e0f1a2b3c4d';

/**
 * Provisioning request. Checked by BrokerService, not by the global strict pipe: the spec
 * says unknown (extension) fields must be ignored, not refused.
 */
export class CreateServiceInstanceDto {
  @ApiProperty({ example: SERVICE_ID, description: 'A service id from GET /v2/catalog.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  service_id: string;

  @ApiProperty({ example: PLAN_ID, description: 'A plan id of that service.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  plan_id: string;

  @ApiProperty({
    example: 'org-guid-here',
    description: 'Deprecated by the spec in favour of context, still required.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  organization_guid: string;

  @ApiProperty({
    example: 'space-guid-here',
    description: 'Deprecated by the spec in favour of context, still required.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  space_guid: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'The platform context (organization, space, namespace...): recorded with the instance.',
    example: {
      platform: 'cloudfoundry',
      organization_guid: 'org-guid-here',
      space_guid: 'space-guid-here',
    },
  })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'name (database name), team (team id), project (project id), description; nothing else.',
    example: { name: 'orders', team: 1 },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'The catalog announces no maintenance_info: any value is refused with 422 MaintenanceInfoConflict.',
    example: { version: '1.0.0' },
  })
  @IsOptional()
  @IsObject()
  maintenance_info?: Record<string, unknown>;
}

export class BindResourceDto {
  @ApiPropertyOptional({ example: 'app-guid-here' })
  app_guid?: string;
  @ApiPropertyOptional({ example: 'https://app.example.com' })
  route?: string;
}

/** Binding request, checked by BrokerService (unknown fields are ignored, as the spec says). */
export class CreateServiceBindingDto {
  @ApiProperty({ example: SERVICE_ID })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  service_id: string;

  @ApiProperty({ example: PLAN_ID })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  plan_id: string;

  @ApiPropertyOptional({
    example: 'app-guid-here',
    description: 'Deprecated in favour of bind_resource.app_guid.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  app_guid?: string;

  @ApiPropertyOptional({ type: BindResourceDto })
  @IsOptional()
  @IsObject()
  bind_resource?: BindResourceDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { platform: 'cloudfoundry' },
  })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'privileges: owner (default), read-write or read-only.',
    example: { privileges: 'read-write' },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

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
