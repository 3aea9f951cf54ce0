import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { Injectable } from '@nestjs/common';
import { BackgroundOperations } from './background-operations';
import { INTERRUPTED_BECOMES } from './broker-instance-states';
import { BrokerInstance, BrokerInstanceRepository } from './broker-instance.repository';

/**
 * An operation still `in progress` this long after its last change was cut off (the process
 * died: every engine step is bounded to seconds); it is reported as failed.
 */
export const STALE_OPERATION_MS = 5 * 60_000;

/** Reads service instances as a caller may see them, with interrupted operations settled. */
@Injectable()
export class InstanceLookup {
  constructor(
    private readonly instances: BrokerInstanceRepository,
    private readonly background: BackgroundOperations,
    private readonly policy: AccessPolicy,
  ) {}

  /** The instance, with an operation cut off by a dead process reported as failed. */
  async find(instanceId: string): Promise<BrokerInstance | null> {
    const row = await this.instances.find(instanceId);
    const interrupted = row && INTERRUPTED_BECOMES[row.status];
    if (
      row &&
      interrupted &&
      !this.background.isRunning(instanceId) &&
      Date.now() - row.updatedAt.getTime() > STALE_OPERATION_MS
    ) {
      await this.instances.transition(instanceId, {
        from: row.status,
        to: interrupted,
        operationId: row.operationId,
        set: { error: 'The operation was interrupted (the broker restarted); retry it.' },
      });
      return this.instances.find(instanceId);
    }
    return row;
  }

  /** An instance the viewer may see; others' instances are answered as absent. */
  async findVisible(instanceId: string, viewer: AuthenticatedUser): Promise<BrokerInstance | null> {
    if (!instanceId || instanceId.length > 255) return null;
    const row = await this.find(instanceId);
    return row && this.canSee(row, viewer) ? row : null;
  }

  canSee(row: BrokerInstance, viewer: AuthenticatedUser): boolean {
    return (
      this.policy.isDba(viewer) ||
      (row.teamId !== null && this.policy.canSeeTeam(viewer, row.teamId))
    );
  }
}

/** The labels a platform shows with an instance: the dbaas database it stands for. */
export interface InstanceMetadata {
  labels: Record<string, string>;
}

export function instanceMetadata(
  row: Pick<BrokerInstance, 'databaseName' | 'databaseId'>,
): InstanceMetadata {
  const labels: Record<string, string> = { 'dbaas-database': row.databaseName };
  if (row.databaseId !== null) labels['dbaas-database-id'] = String(row.databaseId);
  return { labels };
}
