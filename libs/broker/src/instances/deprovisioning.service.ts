import { AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, DeletionProtectedError, NotFoundError } from '@dbaas/core';
import { DatabasesService } from '@dbaas/databases';
import { QuarantineService } from '@dbaas/quarantine';
import { Injectable } from '@nestjs/common';
import { asCaller, BrokerCall, BrokerQuery, checkId } from '../broker-call';
import {
  BrokerResourceGoneError,
  failureText,
  InstanceProtectedError,
  InvalidBrokerRequestError,
  OperationInProgressError,
} from '../broker-errors';
import { newOperationId } from '../broker-names';
import { BackgroundOperations } from './background-operations';
import { BrokerInstance, BrokerInstanceRepository } from './broker-instance.repository';
import { InstanceLookup } from './instance-lookup.service';

/** Done now, or running (poll last_operation). */
export type DeprovisionOutcome =
  { kind: 'deprovisioned' } | { kind: 'accepted'; operation: string };

/**
 * DELETE of a service instance: its database goes into quarantine (QuarantineService, as
 * for a DELETE on /api). Orphan mitigation too: after a failed provisioning, a database
 * that was made under the instance's name although its answer was lost is found and
 * quarantined.
 */
@Injectable()
export class DeprovisioningService {
  constructor(
    private readonly instances: BrokerInstanceRepository,
    private readonly lookup: InstanceLookup,
    private readonly background: BackgroundOperations,
    private readonly databases: DatabasesService,
    private readonly quarantine: QuarantineService,
  ) {}

  async deprovision(
    instanceId: string,
    query: BrokerQuery,
    call: BrokerCall,
  ): Promise<DeprovisionOutcome> {
    checkId('instance id', instanceId);
    if (!query.serviceId || !query.planId)
      throw new InvalidBrokerRequestError(
        'The query parameters service_id and plan_id are required.',
      );
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.lookup.findVisible(instanceId, call.viewer);
      if (!row) throw new BrokerResourceGoneError('No such service instance.');
      if (row.serviceId !== query.serviceId || row.planId !== query.planId)
        throw new InvalidBrokerRequestError(
          'service_id and plan_id are not those of this service instance.',
        );
      if (row.status === 'provisioning')
        throw new OperationInProgressError('The service instance is still being provisioned.');
      if (row.status === 'deprovisioning') {
        if (call.acceptsIncomplete) return { kind: 'accepted', operation: row.operationId };
        throw new OperationInProgressError('The service instance is being deprovisioned.');
      }
      if (row.status === 'deprovisioned')
        throw new BrokerResourceGoneError('The service instance was deprovisioned.');
      // Refused before anything changes; QuarantineService refuses it again under the lock.
      if (row.databaseId !== null) await this.refuseProtected(row.databaseId, call.viewer);
      // Provisioned, a failed provisioning (orphan mitigation), or a failed deprovisioning retried.
      const claimed = await this.instances.transition(instanceId, {
        from: row.status,
        to: 'deprovisioning',
        set: { operationId: newOperationId('deprovision'), error: null },
      });
      const current = claimed ? await this.instances.find(instanceId) : null;
      if (!current) continue;
      const work = () => asCaller(call, () => this.removeDatabase(current, call.viewer));
      if (call.acceptsIncomplete && row.status === 'provisioned') {
        this.background.start(instanceId, work());
        return { kind: 'accepted', operation: current.operationId };
      }
      await work();
      return { kind: 'deprovisioned' };
    }
    throw new OperationInProgressError(
      'Another operation for this service instance is in progress.',
    );
  }

  /** 422 while the instance's database is protected from deletion (is_protected). */
  private async refuseProtected(databaseId: number, viewer: AuthenticatedUser): Promise<void> {
    const database = await this.databases.findVisible(databaseId, viewer).catch(() => null);
    if (database?.isProtected) throw protectedInstance();
  }

  private async removeDatabase(row: BrokerInstance, viewer: AuthenticatedUser): Promise<void> {
    const move = { from: 'deprovisioning', operationId: row.operationId } as const;
    try {
      let databaseId = row.databaseId;
      if (databaseId === null) {
        const found = await this.databases.list({ page: 1, pageSize: 1 }, viewer, {
          name: row.databaseName,
          environment: row.environmentId,
        });
        databaseId = found.items[0]?.database.id ?? null;
      }
      if (databaseId !== null) {
        const database = await this.databases
          .findVisible(databaseId, viewer)
          .catch((error: unknown) => {
            if (error instanceof NotFoundError) return null; // already quarantined by someone else, or gone
            throw error;
          });
        // Only a live database is quarantined: a second DELETE by a dba would remove it for good.
        if (database && database.status !== 'quarantined')
          await this.quarantine.delete(database.id, viewer);
      }
      await this.instances.transition(row.instanceId, {
        ...move,
        to: 'deprovisioned',
        set: { databaseId, error: null },
      });
    } catch (error) {
      await this.instances
        .transition(row.instanceId, {
          ...move,
          to: 'deprovision failed',
          set: { error: failureText(error).slice(0, 500) },
        })
        .catch(() => undefined);
      if (error instanceof DeletionProtectedError) throw protectedInstance();
      // The database is busy with another operation (a lock, a restore): try again later.
      if (error instanceof ConflictError) throw new OperationInProgressError(error.message);
      throw error;
    }
  }
}

function protectedInstance(): InstanceProtectedError {
  return new InstanceProtectedError(
    'The database of this service instance is protected from deletion: set is_protected to false on it first (PATCH /api/database/{id}/).',
  );
}
