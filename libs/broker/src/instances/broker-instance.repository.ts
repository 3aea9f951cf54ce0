import { assertTransition } from '@dbaas/core';
import { BrokerInstanceEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, QueryFailedError, Repository } from 'typeorm';
import {
  BROKER_INSTANCE_TRANSITIONS,
  BrokerInstanceStatus,
  statusOf,
  STORED_AS,
} from './broker-instance-states';

/** A service instance as the broker reads it: the row, with its lifecycle status. */
export interface BrokerInstance {
  instanceId: string;
  serviceId: string;
  planId: string;
  dbaasPlanId: number;
  environmentId: number;
  userId: number;
  teamId: number | null;
  context: Record<string, unknown>;
  organizationGuid: string | null;
  spaceGuid: string | null;
  parameters: Record<string, unknown>;
  databaseId: number | null;
  databaseName: string;
  status: BrokerInstanceStatus;
  operationId: string;
  error: string | null;
  updatedAt: Date;
}

/** What a provisioning writes: the request as the platform sent it and the dbaas plan it names. */
export type ProvisioningFields = Omit<
  BrokerInstance,
  'instanceId' | 'status' | 'databaseId' | 'error' | 'updatedAt'
>;

/** Columns a move may set besides the status. */
export type InstanceChanges = Partial<Omit<BrokerInstance, 'instanceId' | 'status' | 'updatedAt'>>;

/** One lifecycle move: from one of `from`, and only for the operation `operationId` if given. */
export interface InstanceMove {
  from: BrokerInstanceStatus | readonly BrokerInstanceStatus[];
  to: BrokerInstanceStatus;
  operationId?: string;
  set?: InstanceChanges;
}

const UNIQUE_VIOLATION = '23505';

function toInstance(row: BrokerInstanceEntity): BrokerInstance {
  const { operation, state, ...rest } = row;
  return { ...rest, status: statusOf(operation, state) };
}

/** The broker_instance table: every statement of the broker on it. */
@Injectable()
export class BrokerInstanceRepository {
  constructor(
    @InjectRepository(BrokerInstanceEntity)
    private readonly rows: Repository<BrokerInstanceEntity>,
  ) {}

  async find(instanceId: string): Promise<BrokerInstance | null> {
    const row = await this.rows.findOneBy({ instanceId });
    return row ? toInstance(row) : null;
  }

  /**
   * Writes a new instance in `provisioning`. False when the id is taken: a concurrent
   * request won the race, and this one is answered as a repeat.
   */
  async insertProvisioning(instanceId: string, fields: ProvisioningFields): Promise<boolean> {
    const { operation, state } = STORED_AS.provisioning;
    try {
      const row = this.rows.create({ instanceId, ...fields, operation, state, error: null });
      // `as never`: TypeORM's deep-partial insert type does not take jsonb records.
      await this.rows.insert(row as never);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /**
   * Moves an instance along its lifecycle, in one guarded UPDATE: the row changes only if
   * it is still in one of the `from` statuses (and of the operation `operationId`, when
   * given), so of racing requests exactly one wins. A move the transition table does not
   * allow is refused before any SQL (IllegalTransitionError). False when the row was not
   * (or no longer) in a `from` status.
   */
  async transition(instanceId: string, move: InstanceMove): Promise<boolean> {
    const from = typeof move.from === 'string' ? [move.from] : [...move.from];
    for (const status of from)
      assertTransition(
        BROKER_INSTANCE_TRANSITIONS,
        `Service instance ${instanceId}`,
        status,
        move.to,
      );
    const { operation, state } = STORED_AS[move.to];
    const query = this.rows
      .createQueryBuilder()
      .update()
      .set({ ...move.set, operation, state } as never)
      .where('instance_id = :instanceId', { instanceId })
      .andWhere(
        new Brackets((any) => {
          from.forEach((status, i) =>
            any.orWhere(`(operation = :operation${i} AND state = :state${i})`, {
              [`operation${i}`]: STORED_AS[status].operation,
              [`state${i}`]: STORED_AS[status].state,
            }),
          );
        }),
      );
    if (move.operationId !== undefined)
      query.andWhere('operation_id = :operationId', { operationId: move.operationId });
    const result = await query.execute();
    return Boolean(result.affected);
  }

  /**
   * A provisioned instance was updated (OSB PATCH): its plan and parameters as they are now.
   * False when it is no longer provisioned.
   */
  async recordUpdate(
    instanceId: string,
    set: Pick<BrokerInstance, 'planId' | 'dbaasPlanId' | 'parameters'>,
  ): Promise<boolean> {
    const { operation, state } = STORED_AS.provisioned;
    const result = await this.rows
      .createQueryBuilder()
      .update()
      .set(set as never)
      .where('instance_id = :instanceId AND operation = :operation AND state = :state', {
        instanceId,
        operation,
        state,
      })
      .execute();
    return Boolean(result.affected);
  }

  /**
   * Forgets a provisioning the request refused (the spec: a 4xx leaves nothing behind),
   * only while it is still that operation's row.
   */
  async forgetRefusedProvisioning(instanceId: string, operationId: string): Promise<void> {
    const { operation, state } = STORED_AS.provisioning;
    await this.rows.delete({ instanceId, operationId, operation, state });
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION
  );
}
