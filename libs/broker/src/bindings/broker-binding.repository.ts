import { BrokerBindingEntity, BrokerBindingState } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';

/** A service binding as the broker reads it. */
export interface BrokerBinding {
  bindingId: string;
  instanceId: string;
  serviceId: string;
  planId: string;
  credentialId: number | null;
  appGuid: string | null;
  bindResource: Record<string, unknown>;
  context: Record<string, unknown>;
  parameters: Record<string, unknown>;
  state: BrokerBindingState;
  createdAt: Date;
}

/** What a binding request writes: everything but its credential and state. */
export type BindingFields = Omit<BrokerBinding, 'credentialId' | 'state' | 'createdAt'>;

const UNIQUE_VIOLATION = '23505';

function toBinding(row: BrokerBindingEntity): BrokerBinding {
  return { ...row };
}

/** The broker_binding table: every statement of the broker on it. */
@Injectable()
export class BrokerBindingRepository {
  constructor(
    @InjectRepository(BrokerBindingEntity)
    private readonly rows: Repository<BrokerBindingEntity>,
  ) {}

  async find(bindingId: string): Promise<BrokerBinding | null> {
    const row = await this.rows.findOneBy({ bindingId });
    return row ? toBinding(row) : null;
  }

  /** The binding if it belongs to that instance. */
  async findOnInstance(instanceId: string, bindingId: string): Promise<BrokerBinding | null> {
    const row = await this.rows.findOneBy({ bindingId, instanceId });
    return row ? toBinding(row) : null;
  }

  /**
   * Writes a new binding `in progress`, before its credential is made. False when the id
   * is taken: a concurrent request won the race.
   */
  async insertInProgress(fields: BindingFields): Promise<boolean> {
    try {
      const row = this.rows.create({ ...fields, credentialId: null, state: 'in progress' });
      // `as never`: TypeORM's deep-partial insert type does not take jsonb records.
      await this.rows.insert(row as never);
      return true;
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION
      )
        return false;
      throw error;
    }
  }

  /** The binding's credential exists: the binding is made. */
  async markBound(bindingId: string, credentialId: number): Promise<void> {
    await this.rows.update(bindingId, { credentialId, state: 'succeeded' });
  }

  async remove(bindingId: string): Promise<void> {
    await this.rows.delete({ bindingId });
  }

  /** Removes a binding left `in progress` by a dead process, unless it was finished meanwhile. */
  async removeInProgress(bindingId: string): Promise<void> {
    await this.rows.delete({ bindingId, state: 'in progress' });
  }
}
