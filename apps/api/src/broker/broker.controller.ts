import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import {
  BindingService,
  BrokerCall,
  BrokerCatalog,
  DeprovisioningService,
  InstanceStatusService,
  LastOperation,
  ProvisioningService,
  UpdatingService,
} from '@dbaas/broker';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  Param,
  Patch,
  Put,
  Query,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { FastifyReply } from 'fastify';
import {
  BindDocs,
  BrokerApiDocs,
  CatalogDocs,
  DeprovisionDocs,
  FetchBindingDocs,
  FetchInstanceDocs,
  LastOperationDocs,
  ProvisionDocs,
  UnbindDocs,
  UpdateDocs,
} from './broker-api-docs.decorators';
import { BrokerErrorFilter } from './broker-errors';
import {
  CreateServiceBindingDto,
  CreateServiceInstanceDto,
  toBindRequest,
  toProvisionRequest,
  toUpdateRequest,
  UpdateServiceInstanceDto,
} from './broker-requests.dto';
import { LastOperationDto } from './broker-responses.dto';
import { BrokerGuard } from './broker.guard';
import { describeOrigin } from './originating-identity';

const ORIGIN_HEADER = 'x-broker-api-originating-identity';

/**
 * The Open Service Broker API v2.17 (https://github.com/openservicebrokerapi/servicebroker):
 * platforms such as Cloud Foundry, Kubernetes Service Catalog and tsuru provision dbaas
 * databases (instances) and credentials (bindings) through it. Errors are the spec's
 * `{error, description}`, not problem+json.
 */
@BrokerApiDocs()
@UseFilters(BrokerErrorFilter)
@UseGuards(BrokerGuard)
@Authenticated()
@Controller('v2')
export class BrokerController {
  constructor(
    private readonly catalog: BrokerCatalog,
    private readonly provisioning: ProvisioningService,
    private readonly updating: UpdatingService,
    private readonly deprovisioning: DeprovisioningService,
    private readonly instances: InstanceStatusService,
    private readonly bindings: BindingService,
  ) {}

  @Get('catalog')
  @CatalogDocs()
  getCatalog() {
    return this.catalog.catalog();
  }

  @Put('service_instances/:instance_id')
  @ProvisionDocs()
  async provision(
    @Param('instance_id') instanceId: string,
    @Query('accepts_incomplete') acceptsIncomplete: string | undefined,
    @Body() body: CreateServiceInstanceDto,
    @CurrentUser() user: AuthenticatedUser,
    @Headers(ORIGIN_HEADER) origin: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const outcome = await this.provisioning.provision(
      instanceId,
      toProvisionRequest(body),
      call(user, origin, acceptsIncomplete),
    );
    if (outcome.kind === 'accepted') return send(reply, 202, { operation: outcome.operation });
    return send(reply, outcome.kind === 'provisioned' ? 201 : 200, { metadata: outcome.metadata });
  }

  @Patch('service_instances/:instance_id')
  @UpdateDocs()
  async update(
    @Param('instance_id') instanceId: string,
    @Query('accepts_incomplete') acceptsIncomplete: string | undefined,
    @Body() body: UpdateServiceInstanceDto,
    @CurrentUser() user: AuthenticatedUser,
    @Headers(ORIGIN_HEADER) origin: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const outcome = await this.updating.update(
      instanceId,
      toUpdateRequest(body),
      call(user, origin, acceptsIncomplete),
    );
    if (outcome.kind === 'accepted') return send(reply, 202, { operation: outcome.operation });
    return send(reply, 200, {});
  }

  @Get('service_instances/:instance_id')
  @FetchInstanceDocs()
  async fetchInstance(
    @Param('instance_id') instanceId: string,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    const instance = await this.instances.fetch(instanceId, user);
    return {
      service_id: instance.serviceId,
      plan_id: instance.planId,
      parameters: instance.parameters,
      metadata: instance.metadata,
    };
  }

  @Delete('service_instances/:instance_id')
  @DeprovisionDocs()
  async deprovision(
    @Param('instance_id') instanceId: string,
    @Query('service_id') serviceId: string | undefined,
    @Query('plan_id') planId: string | undefined,
    @Query('accepts_incomplete') acceptsIncomplete: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Headers(ORIGIN_HEADER) origin: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const outcome = await this.deprovisioning.deprovision(
      instanceId,
      { serviceId, planId },
      call(user, origin, acceptsIncomplete),
    );
    if (outcome.kind === 'accepted') return send(reply, 202, { operation: outcome.operation });
    return send(reply, 200, {});
  }

  @Get('service_instances/:instance_id/last_operation')
  @LastOperationDocs()
  async lastOperation(
    @Param('instance_id') instanceId: string,
    @Query('service_id') serviceId: string | undefined,
    @Query('plan_id') planId: string | undefined,
    @Query('operation') operation: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const last = await this.instances.lastOperation(
      instanceId,
      { serviceId, planId, operation },
      user,
    );
    // The platform polls again after this many seconds.
    if (last.state === 'in progress') void reply.header('Retry-After', '1');
    return lastOperationBody(last);
  }

  @Put('service_instances/:instance_id/service_bindings/:binding_id')
  @BindDocs()
  async bind(
    @Param('instance_id') instanceId: string,
    @Param('binding_id') bindingId: string,
    @Query('accepts_incomplete') acceptsIncomplete: string | undefined,
    @Body() body: CreateServiceBindingDto,
    @CurrentUser() user: AuthenticatedUser,
    @Headers(ORIGIN_HEADER) origin: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const outcome = await this.bindings.bind(
      instanceId,
      bindingId,
      toBindRequest(body),
      call(user, origin, acceptsIncomplete),
    );
    return send(reply, outcome.kind === 'bound' ? 201 : 200, outcome.binding);
  }

  @Get('service_instances/:instance_id/service_bindings/:binding_id')
  @FetchBindingDocs()
  fetchBinding(
    @Param('instance_id') instanceId: string,
    @Param('binding_id') bindingId: string,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    return this.bindings.fetch(instanceId, bindingId, user);
  }

  @Delete('service_instances/:instance_id/service_bindings/:binding_id')
  @UnbindDocs()
  async unbind(
    @Param('instance_id') instanceId: string,
    @Param('binding_id') bindingId: string,
    @Query('service_id') serviceId: string | undefined,
    @Query('plan_id') planId: string | undefined,
    @Query('accepts_incomplete') acceptsIncomplete: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Headers(ORIGIN_HEADER) origin: string | undefined,
  ) {
    await this.bindings.unbind(
      instanceId,
      bindingId,
      { serviceId, planId },
      call(user, origin, acceptsIncomplete),
    );
    return {};
  }
}

function call(
  viewer: AuthenticatedUser,
  origin: string | undefined,
  acceptsIncomplete: string | undefined,
): BrokerCall {
  return {
    viewer,
    origin: describeOrigin(origin),
    acceptsIncomplete: acceptsIncomplete === 'true',
  };
}

function send(reply: FastifyReply, status: number, body: object): object {
  void reply.status(status);
  return body;
}

function lastOperationBody(last: LastOperation): LastOperationDto {
  const body: LastOperationDto = { state: last.state, description: last.description };
  if (last.instanceUsable !== undefined) body.instance_usable = last.instanceUsable;
  return body;
}
