import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ERROR_DOCS, errorHeaders } from '../http/api-docs.decorators';
import { codeFor } from './broker-errors';
import {
  CreateServiceBindingDto,
  CreateServiceInstanceDto,
  UpdateServiceInstanceDto,
} from './broker-requests.dto';
import {
  BrokerEmptyDto,
  BrokerErrorDto,
  CatalogDto,
  LastOperationDto,
  ServiceBindingDto,
  ServiceInstanceDto,
  ServiceInstanceOperationDto,
} from './broker-responses.dto';

/*
 * The OpenAPI documentation of the broker routes: one decorator per route, so that the
 * controller reads as the list of its routes. applyDecorators applies its list in order
 * (stacked decorators apply bottom-up): this order keeps the document's parameter order.
 */

/** Where the broker's meaning of a status differs from the REST API's. */
const BROKER_ERROR_DESCRIPTIONS: Record<number, string> = {
  403: 'Logged in, but the user has neither the broker nor the dba role.',
  404: 'No such service instance or binding.',
  409: 'The instance or binding exists with other attributes.',
  410: 'The instance or binding does not exist (deprovision and unbind answer 410, as the spec says).',
  422: 'The request cannot be served as asked: e.g. accepts_incomplete=true is required, or a concurrent operation runs.',
};

/** Documents answers: a body type per status; errors in the broker format, each with its own example. */
function ApiAnswers(
  answers: Record<number, { type: new () => object; description: string }>,
  ...errors: number[]
) {
  return applyDecorators(
    ApiExtraModels(BrokerErrorDto, BrokerEmptyDto),
    ...Object.entries(answers).map(([status, { type, description }]) =>
      type === BrokerEmptyDto
        ? // `{}` (a 410 of deprovision and unbind, or a 200 with nothing to say): shown as it is.
          ApiResponse({
            status: Number(status),
            description,
            content: {
              'application/json': { schema: { $ref: getSchemaPath(BrokerEmptyDto) }, example: {} },
            },
          })
        : ApiResponse({ status: Number(status), description, type }),
    ),
    ...[401, 403, 412, 429, ...errors].map((status) =>
      ApiResponse({
        status,
        description: BROKER_ERROR_DESCRIPTIONS[status] ?? ERROR_DOCS[status].description,
        headers: errorHeaders(status),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(BrokerErrorDto) },
            example: { error: codeFor(status), description: ERROR_DOCS[status].detail },
          },
        },
      }),
    ),
  );
}

const InstanceIdParam = () =>
  ApiParam({
    name: 'instance_id',
    description: 'The platform’s id of the service instance.',
    example: '9b2f6a3e-4c1d-4e8f-a7b6-5d4c3b2a1f0e',
  });
const BindingIdParam = () =>
  ApiParam({
    name: 'binding_id',
    description: 'The platform’s id of the service binding.',
    example: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  });
const AcceptsIncomplete = () =>
  ApiQuery({
    name: 'accepts_incomplete',
    required: false,
    type: Boolean,
    description: 'true: the platform polls last_operation after a 202.',
  });
const ServicePlanQuery = (required: boolean) =>
  applyDecorators(
    ApiQuery({ name: 'service_id', required, type: String }),
    ApiQuery({ name: 'plan_id', required, type: String }),
  );

/** The tag and the headers every broker route takes. */
export const BrokerApiDocs = () =>
  applyDecorators(
    ApiHeader({
      name: 'X-Broker-API-Originating-Identity',
      required: false,
      description: 'Platform and base64 JSON of the platform user: recorded in the task history.',
      schema: { type: 'string', example: 'cloudfoundry eyJ1c2VyX2lkIjoiNjgzZWE3NDgifQ==' },
    }),
    ApiHeader({
      name: 'X-Broker-API-Version',
      required: true,
      description: 'Open Service Broker API version: 2.13 or later (412 otherwise).',
      schema: { type: 'string', example: '2.17' },
    }),
    ApiTags('broker'),
  );

export const CatalogDocs = () =>
  applyDecorators(
    ApiAnswers({ 200: { type: CatalogDto, description: 'The catalog.' } }),
    ApiOperation({
      summary: 'The broker catalog: one service per engine type, one plan per plan and environment',
      operationId: 'get_broker_catalog',
    }),
  );

export const ProvisionDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: {
          type: ServiceInstanceOperationDto,
          description: 'Already provisioned with the same attributes.',
        },
        201: { type: ServiceInstanceOperationDto, description: 'Provisioned.' },
        202: {
          type: ServiceInstanceOperationDto,
          description: 'Provisioning in progress: poll last_operation.',
        },
      },
      400,
      409,
      422,
      502,
      503,
    ),
    ApiBody({ type: CreateServiceInstanceDto }),
    AcceptsIncomplete(),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Provision a service instance: a dbaas database',
      description:
        'Synchronous (201) unless accepts_incomplete=true (202, then poll last_operation). The same request again answers 200; other attributes 409.',
      operationId: 'provision_service_instance',
    }),
  );

export const FetchInstanceDocs = () =>
  applyDecorators(
    ApiAnswers({ 200: { type: ServiceInstanceDto, description: 'The instance.' } }, 404, 422),
    ServicePlanQuery(false),
    InstanceIdParam(),
    ApiOperation({ summary: 'Fetch a service instance', operationId: 'get_service_instance' }),
  );

export const UpdateDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: { type: ServiceInstanceOperationDto, description: 'Updated: {}.' },
        202: {
          type: ServiceInstanceOperationDto,
          description:
            'The plan change moves the database to another server: poll last_operation with the operation.',
        },
      },
      400,
      404,
      422,
      502,
      503,
    ),
    ApiBody({ type: UpdateServiceInstanceDto }),
    AcceptsIncomplete(),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Update a service instance: its plan, description, tags, deletion protection',
      description:
        "A plan of the same service in the instance's environment, and the parameters description, tags and is_protected. Synchronous (200) when the database's server serves the new plan; otherwise the database moves (202 with accepts_incomplete=true, 422 AsyncRequired without). Anything else: 422 UnprocessableEntity.",
      operationId: 'update_service_instance',
    }),
  );

export const DeprovisionDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: { type: ServiceInstanceOperationDto, description: 'Deprovisioned: {}.' },
        202: {
          type: ServiceInstanceOperationDto,
          description: 'Deprovisioning in progress: poll last_operation.',
        },
        410: {
          type: BrokerEmptyDto,
          description:
            'No such instance (already deprovisioned, or never provisioned): an empty body.',
        },
      },
      400,
      422,
      502,
      503,
    ),
    AcceptsIncomplete(),
    ServicePlanQuery(true),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Deprovision a service instance: its database goes into quarantine',
      description:
        'The database is quarantined, not dropped: a dba can restore it until it is purged. Unknown instance: 410.',
      operationId: 'deprovision_service_instance',
    }),
  );

export const LastOperationDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: { type: LastOperationDto, description: 'The state of the last operation.' },
        410: {
          type: BrokerEmptyDto,
          description: 'Deprovisioned and its database removed for good: {}.',
        },
      },
      400,
      404,
    ),
    ApiQuery({
      name: 'operation',
      required: false,
      type: String,
      description: 'The operation of the 202 answer.',
    }),
    ServicePlanQuery(false),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Poll the last operation on a service instance',
      operationId: 'get_service_instance_last_operation',
    }),
  );

export const BindDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: { type: ServiceBindingDto, description: 'Already bound with the same attributes.' },
        201: { type: ServiceBindingDto, description: 'Bound.' },
      },
      400,
      409,
      422,
      502,
      503,
    ),
    ApiBody({ type: CreateServiceBindingDto }),
    AcceptsIncomplete(),
    BindingIdParam(),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Bind: a new credential on the instance’s database',
      description:
        'Always synchronous. credentials: uri, username, password, host, port, database, and jdbcUrl for PostgreSQL and MySQL.',
      operationId: 'create_service_binding',
    }),
  );

export const FetchBindingDocs = () =>
  applyDecorators(
    ApiAnswers({ 200: { type: ServiceBindingDto, description: 'The binding.' } }, 404),
    ServicePlanQuery(false),
    BindingIdParam(),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Fetch a service binding with its credentials',
      operationId: 'get_service_binding',
    }),
  );

export const UnbindDocs = () =>
  applyDecorators(
    ApiAnswers(
      {
        200: { type: BrokerEmptyDto, description: 'Unbound: {}.' },
        410: {
          type: BrokerEmptyDto,
          description: 'No such binding (already unbound, or never bound): an empty body.',
        },
      },
      400,
      422,
      502,
      503,
    ),
    AcceptsIncomplete(),
    ServicePlanQuery(true),
    BindingIdParam(),
    InstanceIdParam(),
    ApiOperation({
      summary: 'Unbind: drop the binding’s credential on the engine',
      operationId: 'delete_service_binding',
    }),
  );
