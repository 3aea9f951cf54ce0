import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  ForbiddenError,
  nameProblem,
  normalizeName,
  NotFoundError,
} from '@dbaas/core';
import { DatabasesService, DatabaseView } from '@dbaas/databases';
import { Injectable } from '@nestjs/common';
import { asCaller, BrokerCall, checkId } from '../broker-call';
import {
  AsyncRequiredError,
  BrokerResourceConflictError,
  failureText,
  InvalidBrokerRequestError,
  isRefusal,
  MaintenanceInfoConflictError,
  OperationInProgressError,
} from '../broker-errors';
import { canonicalJson, defaultDatabaseName, newOperationId } from '../broker-names';
import { BrokerCatalog, BrokerOffer } from '../catalog/broker-catalog.service';
import { BackgroundOperations } from './background-operations';
import {
  BrokerInstance,
  BrokerInstanceRepository,
  ProvisioningFields,
} from './broker-instance.repository';
import { instanceMetadata, InstanceLookup, InstanceMetadata } from './instance-lookup.service';

/** The provisioning parameters a platform may pass (the catalog's schema). */
export interface InstanceParameters {
  name?: string;
  team?: number;
  project?: number;
  description?: string;
}

/** A provisioning request, checked for its shape by the API. */
export interface ProvisionRequest {
  serviceId: string;
  planId: string;
  organizationGuid: string;
  spaceGuid: string;
  context?: Record<string, unknown>;
  parameters?: InstanceParameters;
  maintenanceInfo?: Record<string, unknown> | null;
}

/** An instance row as this request wrote it. */
type NewInstance = ProvisioningFields & { instanceId: string };

/** Done now, already done by the same request before, or running (poll last_operation). */
export type ProvisionOutcome =
  | { kind: 'provisioned'; metadata: InstanceMetadata }
  | { kind: 'already provisioned'; metadata: InstanceMetadata }
  | { kind: 'accepted'; operation: string };

/**
 * PUT of a service instance: a dbaas database made through DatabasesService as the broker
 * user, so team scoping, locks and the task history apply as on /api.
 */
@Injectable()
export class ProvisioningService {
  constructor(
    private readonly instances: BrokerInstanceRepository,
    private readonly lookup: InstanceLookup,
    private readonly background: BackgroundOperations,
    private readonly catalog: BrokerCatalog,
    private readonly databases: DatabasesService,
    private readonly policy: AccessPolicy,
  ) {}

  async provision(
    instanceId: string,
    request: ProvisionRequest,
    call: BrokerCall,
  ): Promise<ProvisionOutcome> {
    checkId('instance id', instanceId);
    const offer = await this.catalog.resolve(request.serviceId, request.planId);
    if (!offer)
      throw new InvalidBrokerRequestError(
        'service_id and plan_id must name a plan of that service in GET /v2/catalog.',
      );
    if (request.maintenanceInfo !== undefined)
      throw new MaintenanceInfoConflictError(
        'This plan announces no maintenance_info in the catalog.',
      );
    const params = request.parameters ?? {};
    const teamId = this.teamFor(params.team, call.viewer);
    const databaseName = normalizeName(params.name ?? defaultDatabaseName(instanceId));
    const problem = nameProblem(databaseName);
    if (problem) throw new InvalidBrokerRequestError(`parameters.name: ${problem}`);
    const fields = (): ProvisioningFields => ({
      serviceId: request.serviceId,
      planId: request.planId,
      dbaasPlanId: offer.plan.id,
      environmentId: offer.environment.id,
      userId: call.viewer.id,
      teamId,
      context: request.context ?? {},
      organizationGuid: request.organizationGuid,
      spaceGuid: request.spaceGuid,
      parameters: { ...params },
      databaseName,
      operationId: newOperationId('provision'),
    });

    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.lookup.find(instanceId);
      if (!existing) {
        const row = fields();
        // False: a concurrent PUT won the race; this one is answered as a repeat.
        if (await this.instances.insertProvisioning(instanceId, row))
          return this.run({ instanceId, ...row }, offer, params, call);
        continue;
      }
      const again = this.provisionAgain(existing, request, call);
      if (again) return again;
      // A failed provisioning is retried with this request: claim the row back.
      const row = fields();
      const claimed = await this.instances.transition(instanceId, {
        from: 'provision failed',
        to: 'provisioning',
        set: { ...row, databaseId: null, error: null },
      });
      if (claimed) return this.run({ instanceId, ...row }, offer, params, call);
    }
    throw new OperationInProgressError(
      'Another operation for this service instance is in progress.',
    );
  }

  /**
   * The answer to a PUT for an instance that exists, or null when it is a failed
   * provisioning that this request may retry.
   */
  private provisionAgain(
    existing: BrokerInstance,
    request: ProvisionRequest,
    call: BrokerCall,
  ): ProvisionOutcome | null {
    if (!this.lookup.canSee(existing, call.viewer))
      throw new BrokerResourceConflictError('A service instance with this id already exists.');
    if (existing.status === 'provision failed') return null;
    if (existing.status === 'deprovisioned')
      throw new BrokerResourceConflictError(
        'This service instance id was deprovisioned; instance ids are not reused.',
      );
    if (existing.status === 'deprovisioning')
      throw new OperationInProgressError('The service instance is being deprovisioned.');
    const same =
      existing.serviceId === request.serviceId &&
      existing.planId === request.planId &&
      existing.organizationGuid === request.organizationGuid &&
      existing.spaceGuid === request.spaceGuid &&
      canonicalJson(existing.parameters) === canonicalJson(request.parameters ?? {});
    if (!same)
      throw new BrokerResourceConflictError(
        'A service instance with this id already exists with other attributes.',
      );
    if (existing.status === 'provisioning') {
      if (call.acceptsIncomplete) return { kind: 'accepted', operation: existing.operationId };
      throw new AsyncRequiredError(
        'This service instance is being provisioned asynchronously: repeat the request with accepts_incomplete=true.',
      );
    }
    return { kind: 'already provisioned', metadata: instanceMetadata(existing) };
  }

  /** Makes the database now, or in the background when the platform accepts that. */
  private async run(
    row: NewInstance,
    offer: BrokerOffer,
    params: InstanceParameters,
    call: BrokerCall,
  ): Promise<ProvisionOutcome> {
    const work = () => asCaller(call, () => this.createDatabase(row, offer, params, call));
    if (call.acceptsIncomplete) {
      this.background.start(row.instanceId, work());
      return { kind: 'accepted', operation: row.operationId };
    }
    const created = await work();
    return {
      kind: 'provisioned',
      metadata: instanceMetadata({
        databaseId: created.database.id,
        databaseName: created.database.name,
      }),
    };
  }

  private async createDatabase(
    row: NewInstance,
    offer: BrokerOffer,
    params: InstanceParameters,
    call: BrokerCall,
  ): Promise<DatabaseView> {
    const move = { from: 'provisioning', operationId: row.operationId } as const;
    try {
      const created = await this.databases.create(
        {
          name: row.databaseName,
          plan: offer.plan.id,
          environment: offer.environment.id,
          project: params.project ?? null,
          team: row.teamId ?? undefined,
          description:
            params.description ??
            `Open Service Broker instance ${row.instanceId} (${contextSummary(row)})`.slice(
              0,
              1000,
            ),
        },
        call.viewer,
      );
      await this.instances.transition(row.instanceId, {
        ...move,
        to: 'provisioned',
        set: { databaseId: created.database.id, databaseName: created.database.name, error: null },
      });
      return created;
    } catch (error) {
      if (!call.acceptsIncomplete && isRefusal(error)) {
        // A refused request leaves nothing behind (spec: 4xx = resources unchanged).
        await this.instances
          .forgetRefusedProvisioning(row.instanceId, row.operationId)
          .catch(() => undefined);
      } else {
        await this.instances
          .transition(row.instanceId, {
            ...move,
            to: 'provision failed',
            set: { error: failureText(error).slice(0, 500) },
          })
          .catch(() => undefined);
      }
      // A name taken, a bad team or project: the request's data is invalid, not the instance id.
      if (
        error instanceof ConflictError ||
        error instanceof ForbiddenError ||
        error instanceof NotFoundError
      )
        throw new InvalidBrokerRequestError(error.message);
      throw error;
    }
  }

  /** The team of a new database: parameters.team (one of the caller's), or the caller's only team. */
  private teamFor(team: number | undefined, viewer: AuthenticatedUser): number {
    if (team !== undefined) {
      if (!this.policy.canSeeTeam(viewer, team))
        throw new InvalidBrokerRequestError('parameters.team: you are not a member of this team.');
      return team;
    }
    if (viewer.teamIds.length === 1) return viewer.teamIds[0];
    throw new InvalidBrokerRequestError(
      `parameters.team is required: the broker user belongs to ${viewer.teamIds.length} teams.`,
    );
  }
}

/** Where the platform made the instance, for the database's description. */
function contextSummary(row: Pick<BrokerInstance, 'context' | 'organizationGuid' | 'spaceGuid'>) {
  const context = row.context ?? {};
  const parts = ['platform', 'organization_name', 'space_name', 'namespace', 'instance_name']
    .filter((key) => typeof context[key] === 'string')
    .map((key) => `${key}=${String(context[key])}`);
  if (!parts.length)
    parts.push(`organization_guid=${row.organizationGuid}`, `space_guid=${row.spaceGuid}`);
  return parts.join(', ');
}
