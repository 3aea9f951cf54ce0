import { AuthenticatedUser } from '@dbaas/auth';
import { DatabasesService } from '@dbaas/databases';
import { TaskHistory } from '@dbaas/operations';
import { BrokerState } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { BrokerQuery } from '../broker-call';
import {
  BrokerResourceGoneError,
  BrokerResourceNotFoundError,
  InvalidBrokerRequestError,
  OperationInProgressError,
} from '../broker-errors';
import { BrokerCatalog } from '../catalog/broker-catalog.service';
import { BrokerInstance, BrokerInstanceRepository } from './broker-instance.repository';
import { instanceMetadata, InstanceLookup, InstanceMetadata } from './instance-lookup.service';
import { UPDATE_OPERATION_PREFIX } from './updating.service';

/** A provisioned instance as the platform reads it back. */
export interface InstanceDetails {
  serviceId: string;
  planId: string;
  parameters: Record<string, unknown>;
  metadata: InstanceMetadata;
}

/** The state of the last operation; `instanceUsable` after a failed deprovisioning only. */
export interface LastOperation {
  state: BrokerState;
  description: string;
  instanceUsable?: boolean;
}

/** GET of an instance and of its last operation. */
@Injectable()
export class InstanceStatusService {
  constructor(
    private readonly lookup: InstanceLookup,
    private readonly databases: DatabasesService,
    private readonly instances: BrokerInstanceRepository,
    private readonly catalog: BrokerCatalog,
    private readonly tasks: TaskHistory,
  ) {}

  async fetch(instanceId: string, viewer: AuthenticatedUser): Promise<InstanceDetails> {
    const row = await this.lookup.findVisible(instanceId, viewer);
    if (!row || row.status === 'provisioning' || row.status === 'provision failed')
      throw new BrokerResourceNotFoundError(
        'No such service instance, or its provisioning is not finished.',
      );
    if (row.status === 'deprovisioned')
      throw new BrokerResourceNotFoundError('The service instance was deprovisioned.');
    if (row.status === 'deprovisioning')
      throw new OperationInProgressError('The service instance is being deprovisioned.');
    const planId = await this.settlePlan(row);
    return {
      serviceId: row.serviceId,
      planId,
      parameters: row.parameters,
      metadata: instanceMetadata(row),
    };
  }

  async lastOperation(
    instanceId: string,
    query: BrokerQuery,
    viewer: AuthenticatedUser,
  ): Promise<LastOperation> {
    for (const [key, value] of Object.entries({
      service_id: query.serviceId,
      plan_id: query.planId,
      operation: query.operation,
    })) {
      if (value === '') throw new InvalidBrokerRequestError(`${key} must not be empty when given.`);
    }
    const row = await this.lookup.findVisible(instanceId, viewer);
    if (!row) throw new BrokerResourceNotFoundError('No such service instance.');
    if (query.operation?.startsWith(UPDATE_OPERATION_PREFIX))
      return this.updateOperation(row, query.operation, viewer);
    if (
      (query.serviceId && query.serviceId !== row.serviceId) ||
      (query.planId && query.planId !== row.planId)
    )
      throw new InvalidBrokerRequestError(
        'service_id and plan_id are not those of this service instance.',
      );
    const name = row.databaseName;
    const failure = row.error ?? 'unknown error';
    switch (row.status) {
      case 'provisioning':
        return { state: 'in progress', description: `Creating the database ${name}.` };
      case 'provisioned':
        return { state: 'succeeded', description: `The database ${name} is ready.` };
      case 'provision failed':
        return { state: 'failed', description: `Provisioning failed: ${failure}` };
      case 'deprovisioning':
        return { state: 'in progress', description: `Putting the database ${name} in quarantine.` };
      case 'deprovisioned': {
        // The dba removed the quarantined database for good (or it was purged): gone.
        const database = row.databaseId === null ? null : await this.databases.find(row.databaseId);
        if (!database)
          throw new BrokerResourceGoneError('The service instance and its database are gone.');
        return {
          state: 'succeeded',
          description: `The database ${name} is in quarantine; a dba can restore it until it is purged.`,
        };
      }
      case 'deprovision failed': {
        const database = row.databaseId === null ? null : await this.databases.find(row.databaseId);
        return {
          state: 'failed',
          description: `Deprovisioning failed: ${failure}`,
          instanceUsable: database?.status === 'ready',
        };
      }
    }
  }

  /**
   * The state of an update that moves the database: its `move_database` task. Once it
   * succeeded, the instance's plan is the database's (settlePlan).
   */
  private async updateOperation(
    row: BrokerInstance,
    operation: string,
    viewer: AuthenticatedUser,
  ): Promise<LastOperation> {
    const id = Number(operation.slice(UPDATE_OPERATION_PREFIX.length));
    const task = Number.isSafeInteger(id)
      ? await this.tasks.get(id, viewer).catch(() => null)
      : null;
    if (!task || task.type !== 'move_database' || task.databaseId !== row.databaseId)
      throw new InvalidBrokerRequestError(
        'operation is not an operation of this service instance.',
      );
    const name = row.databaseName;
    if (task.status === 'waiting' || task.status === 'running')
      return { state: 'in progress', description: `Moving the database ${name} to its new plan.` };
    if (task.status === 'error') {
      return {
        state: 'failed',
        description: `The plan change failed: ${task.error ?? 'unknown error'}`,
        instanceUsable: true,
      };
    }
    await this.settlePlan(row);
    return { state: 'succeeded', description: `The database ${name} is on its new plan.` };
  }

  /**
   * The instance's catalog plan as its database's plan is now: a move finished since the
   * update was accepted (in this process or, after a restart, by the reconciler) is
   * recorded here. The catalog plan id.
   */
  private async settlePlan(row: BrokerInstance): Promise<string> {
    if (row.databaseId === null) return row.planId;
    const database = await this.databases.find(row.databaseId);
    if (!database || database.status !== 'ready' || database.planId === row.dbaasPlanId)
      return row.planId;
    const offer = await this.catalog.offerOf(
      row.serviceId,
      database.planId,
      database.environmentId,
    );
    if (!offer) return row.planId;
    await this.instances.recordUpdate(row.instanceId, {
      planId: offer.planId,
      dbaasPlanId: offer.plan.id,
      parameters: row.parameters,
    });
    return offer.planId;
  }
}
