import {
  BindingParameters,
  BindRequest,
  InstanceParameters,
  ProvisionRequest,
  UpdateRequest,
} from '@dbaas/broker';
import { CREDENTIAL_PRIVILEGES, CredentialPrivileges } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IgnoresUnknownFields } from '../http/validation.pipe';
import { PLAN_ID, SERVICE_ID } from './broker-responses.dto';

/** Left out, a parameter is optional; null is a value, and not one of these (@IsOptional would let it by). */
const given = (_: object, value: unknown) => value !== undefined;

/** The provisioning parameters: the catalog's schema (INSTANCE_PARAMETERS_SCHEMA), nothing else. */
export class InstanceParametersDto implements InstanceParameters {
  @ValidateIf(given)
  @IsString()
  @MaxLength(200)
  name?: string;

  @ValidateIf(given)
  @IsInt()
  @Min(1)
  team?: number;

  @ValidateIf(given)
  @IsInt()
  @Min(1)
  project?: number;

  @ValidateIf(given)
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** The binding parameters: the catalog's schema (BINDING_PARAMETERS_SCHEMA), nothing else. */
export class BindingParametersDto implements BindingParameters {
  @IsOptional()
  @IsIn(CREDENTIAL_PRIVILEGES)
  privileges?: CredentialPrivileges | null;
}

/**
 * Provisioning request. Unknown (extension) fields are ignored, as the spec says; the
 * parameters are checked strictly.
 */
@IgnoresUnknownFields()
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
  @ValidateNested()
  @Type(() => InstanceParametersDto)
  parameters?: InstanceParametersDto;

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

/** Binding request. Unknown (extension) fields are ignored; the parameters are checked strictly. */
@IgnoresUnknownFields()
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
  @ValidateNested()
  @Type(() => BindingParametersDto)
  parameters?: BindingParametersDto;
}

/** The fields a DTO instance was given (class fields left out are undefined own properties). */
function givenFields<T extends object>(dto: T | null | undefined): T | undefined {
  if (!dto) return undefined;
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as T;
}

/**
 * Update request (PATCH of an instance). Unknown (extension) fields are ignored, as the
 * spec says; the parameters are checked by the broker (422 for anything but description,
 * tags and is_protected).
 */
@IgnoresUnknownFields()
export class UpdateServiceInstanceDto {
  @ApiProperty({ example: SERVICE_ID, description: 'The service id of the instance.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  service_id: string;

  @ApiPropertyOptional({
    example: PLAN_ID,
    description:
      "A plan id of the same service in the instance's environment: the database changes plan (moving to another server when its own does not serve the plan: 202).",
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  plan_id?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'description, tags, is_protected; nothing else (422).',
    example: { description: 'orders', tags: ['shop'], is_protected: true },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'What the platform knew of the instance (ignored).',
    example: { plan_id: PLAN_ID },
  })
  @IsOptional()
  @IsObject()
  previous_values?: Record<string, unknown>;
}

export function toUpdateRequest(body: UpdateServiceInstanceDto): UpdateRequest {
  return { serviceId: body.service_id, planId: body.plan_id, parameters: body.parameters };
}

export function toProvisionRequest(body: CreateServiceInstanceDto): ProvisionRequest {
  return {
    serviceId: body.service_id,
    planId: body.plan_id,
    organizationGuid: body.organization_guid,
    spaceGuid: body.space_guid,
    context: body.context,
    parameters: givenFields(body.parameters),
    maintenanceInfo: body.maintenance_info,
  };
}

export function toBindRequest(body: CreateServiceBindingDto): BindRequest {
  return {
    serviceId: body.service_id,
    planId: body.plan_id,
    appGuid: body.app_guid,
    bindResource: body.bind_resource as Record<string, unknown> | undefined,
    context: body.context,
    parameters: givenFields(body.parameters),
  };
}
