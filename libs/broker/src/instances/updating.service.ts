import { CloneService } from '@dbaas/backups';
import { ValidationFailedError } from '@dbaas/core';
import { DatabaseChanges, DatabasesService } from '@dbaas/databases';
import { Injectable } from '@nestjs/common';
import { asCaller, BrokerCall, checkId } from '../broker-call';
import {
  AsyncRequiredError,
  BrokerResourceNotFoundError,
  OperationInProgressError,
  UnprocessableUpdateError,
} from '../broker-errors';
import { BrokerCatalog } from '../catalog/broker-catalog.service';
import { BrokerInstanceRepository } from './broker-instance.repository';
import { InstanceLookup } from './instance-lookup.service';

/** An update request (PATCH of an instance), checked for its shape by the API. */
export interface UpdateRequest {
  serviceId: string;
  planId?: string;
  parameters?: Record<string, unknown>;
}

/** Done now, or moving in the background (poll last_operation with `operation`). */
export type UpdateOutcome = { kind: 'updated' } | { kind: 'accepted'; operation: string };

/** The parameters an update may change, and how each is checked. */
const UPDATABLE: Record<string, (value: unknown) => boolean> = {
  description: (value) => typeof value === 'string' && value.length <= 1000,
  tags: (value) => Array.isArray(value) && value.every((tag) => typeof tag === 'string'),
  is_protected: (value) => typeof value === 'boolean',
};

/** The `operation` token of an update that moves the database: its move task. */
export const UPDATE_OPERATION_PREFIX = 'update-';

/**
 * PATCH of a service instance: a plan of the same service (and environment) and the
 * parameters `description`, `tags`, `is_protected`, through the dbaas update of the
 * database (CloneService.update, as `PATCH /api/database/{id}/` does): synchronous when the
 * database's server serves the new plan, else a move in the background whose `operation`
 * names its task (last_operation reads it). Anything else is a 422.
 */
@Injectable()
export class UpdatingService {
  constructor(
    private readonly instances: BrokerInstanceRepository,
    private readonly lookup: InstanceLookup,
    private readonly catalog: BrokerCatalog,
    private readonly databases: DatabasesService,
    private readonly clones: CloneService,
  ) {}

  async update(
    instanceId: string,
    request: UpdateRequest,
    call: BrokerCall,
  ): Promise<UpdateOutcome> {
    checkId('instance id', instanceId);
    const row = await this.lookup.findVisible(instanceId, call.viewer);
    if (!row || row.databaseId === null || row.status === 'deprovisioned')
      throw new BrokerResourceNotFoundError('No such service instance.');
    if (row.status === 'provisioning' || row.status === 'deprovisioning')
      throw new OperationInProgressError(
        'Another operation for this service instance is in progress.',
      );
    if (row.status !== 'provisioned')
      throw new UnprocessableUpdateError(
        `The service instance is ${row.status}: it cannot be updated.`,
      );
    if (request.serviceId !== row.serviceId)
      throw new UnprocessableUpdateError('service_id is not the service of this instance.');
    const parameters = request.parameters ?? {};
    const unknown = Object.keys(parameters).filter((key) => !(key in UPDATABLE));
    if (unknown.length) {
      throw new UnprocessableUpdateError(
        `parameters: only description, tags and is_protected can change (not ${unknown.join(', ')}).`,
      );
    }
    const invalid = Object.keys(parameters).filter((key) => !UPDATABLE[key](parameters[key]));
    if (invalid.length)
      throw new UnprocessableUpdateError(`parameters: invalid ${invalid.join(', ')}.`);

    const database = await this.databases.find(row.databaseId);
    if (!database) throw new BrokerResourceNotFoundError('The database of this instance is gone.');
    const changes: DatabaseChanges = {};
    let planId = row.planId;
    let dbaasPlanId = row.dbaasPlanId;
    if (request.planId !== undefined && request.planId !== row.planId) {
      const offer = await this.catalog.resolve(request.serviceId, request.planId);
      if (!offer)
        throw new UnprocessableUpdateError(
          'plan_id is not a plan of this service in GET /v2/catalog.',
        );
      if (offer.environment.id !== database.environmentId) {
        throw new UnprocessableUpdateError(
          "plan_id is a plan of another environment than the instance's: a plan change keeps the environment.",
        );
      }
      planId = offer.planId;
      dbaasPlanId = offer.plan.id;
      changes.plan = offer.plan.id;
    }
    if (database.status === 'moving')
      throw new OperationInProgressError(
        'The database of this instance is moving to another plan.',
      );
    const moves =
      changes.plan !== undefined && (await this.databases.planChangeMoves(database, changes.plan));
    if (moves && !call.acceptsIncomplete) {
      throw new AsyncRequiredError(
        'This plan change moves the database to another server: repeat the request with accepts_incomplete=true.',
      );
    }
    if (typeof parameters.description === 'string') changes.description = parameters.description;
    if (Array.isArray(parameters.tags)) changes.tags = parameters.tags as string[];
    if (typeof parameters.is_protected === 'boolean') changes.isProtected = parameters.is_protected;

    const updated = await asCaller(call, () =>
      this.clones.update(row.databaseId!, changes, call.viewer).catch((error: unknown) => {
        // dbaas refuses the new plan or a parameter: the request cannot be processed.
        if (error instanceof ValidationFailedError)
          throw new UnprocessableUpdateError(validationText(error));
        throw error;
      }),
    );
    const merged = { ...row.parameters, ...parameters };
    if (!updated.task) {
      await this.instances.recordUpdate(instanceId, { planId, dbaasPlanId, parameters: merged });
      return { kind: 'updated' };
    }
    // The plan is recorded once the move is done (InstanceStatusService.settlePlan).
    await this.instances.recordUpdate(instanceId, {
      planId: row.planId,
      dbaasPlanId: row.dbaasPlanId,
      parameters: merged,
    });
    return { kind: 'accepted', operation: `${UPDATE_OPERATION_PREFIX}${updated.task.id}` };
  }
}

function validationText(error: ValidationFailedError): string {
  const parts = Object.entries(error.errors).map(
    ([field, messages]) => `${field}: ${messages.join('; ')}`,
  );
  return parts.length ? parts.join('. ') : error.message;
}
