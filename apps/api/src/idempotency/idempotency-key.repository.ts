import { ConflictError } from '@dbaas/core';
import { ProcessIdentity } from '@dbaas/operations';
import { IdempotencyKeyEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';

/** A request's hold on its key, while it runs. */
export interface IdempotencyClaim {
  id: number;
  userId: number;
  key: string;
  status: 'running' | 'done';
  /** The API process running the request (ProcessIdentity); null on old claims. */
  owner: number | null;
}

/** A key as stored: the request it was used for and, once done, its sealed answer. */
export interface StoredKey {
  id: number;
  fingerprint: string;
  status: 'running' | 'done';
  owner: number | null;
  responseEncrypted: string | null;
}

/** The `idempotency_key` table: one row per (user, key), the claim and then the answer. */
@Injectable()
export class IdempotencyKeyRepository {
  constructor(
    @InjectRepository(IdempotencyKeyEntity)
    private readonly keys: Repository<IdempotencyKeyEntity>,
    private readonly process: ProcessIdentity,
  ) {}

  async deleteCreatedBefore(moment: Date): Promise<void> {
    await this.keys.delete({ createdAt: LessThan(moment) });
  }

  /**
   * Claims the key for a request of this process (`running`, owned by it); null when the
   * user's key is taken already (the store's unique constraint decides, so two racing
   * requests cannot both claim it).
   */
  async claim(userId: number, key: string, fingerprint: string): Promise<IdempotencyClaim | null> {
    try {
      const row = await translateStoreErrors('key', () =>
        this.keys.save(
          this.keys.create({
            userId,
            key,
            fingerprint,
            status: 'running',
            owner: this.process.id,
          }),
        ),
      );
      return { id: row.id, userId, key, status: row.status, owner: row.owner };
    } catch (error) {
      if (error instanceof ConflictError) return null;
      throw error;
    }
  }

  /** The user's key with its sealed answer, if it is stored. */
  async find(userId: number, key: string): Promise<StoredKey | null> {
    const row = await this.keys
      .createQueryBuilder('k')
      .addSelect('k.responseEncrypted')
      .where('k.userId = :userId AND k.key = :key', { userId, key })
      .getOne();
    if (!row) return null;
    return {
      id: row.id,
      fingerprint: row.fingerprint,
      status: row.status,
      owner: row.owner,
      responseEncrypted: row.responseEncrypted,
    };
  }

  /** Stores the answer of the claim's request (sealed by the caller). */
  async markDone(id: number, answer: { status: number; encrypted: string }): Promise<void> {
    await this.keys.update(id, {
      status: 'done',
      responseStatus: answer.status,
      responseEncrypted: answer.encrypted,
    });
  }

  /**
   * Deletes a `running` claim whose request died with its process: its owner has ended, or
   * it has no owner and was made before `ownerlessBefore`. One statement, so two retries
   * cannot both take the key over; true when it was deleted.
   */
  async deleteIfAbandoned(id: number, options: { ownerlessBefore: Date }): Promise<boolean> {
    // A CTE, so that the driver answers with the rows (a bare DELETE gives [rows, count]).
    const deleted = await this.keys.query<unknown[]>(
      `WITH gone AS (
         DELETE FROM idempotency_key
          WHERE id = $1 AND status = 'running'
            AND (${this.process.ownerGoneSql('owner')} OR (owner IS NULL AND created_at < $2))
          RETURNING id
       ) SELECT id FROM gone`,
      [id, options.ownerlessBefore],
    );
    return deleted.length > 0;
  }

  async delete(id: number): Promise<void> {
    await this.keys.delete(id);
  }
}
