import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { APP_CONFIG, AppConfig, ConflictError } from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabasesService } from '@dbaas/databases';
import { InfraAccess } from '@dbaas/engines';
import { DatabaseEntity } from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThanOrEqual, Repository } from 'typeorm';

/** Today as `YYYY-MM-DD` (UTC), the format of quarantine_dt. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The two-step delete. The first DELETE puts a database in quarantine: every credential
 * loses access on the engine, no data is dropped. A dba may restore it, or DELETE it a
 * second time to remove it for real; after the retention period it is purged.
 */
@Injectable()
export class QuarantineService {
  private readonly logger = new Logger('Quarantine');

  constructor(
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    private readonly databaseService: DatabasesService,
    private readonly credentials: CredentialsService,
    private readonly infras: InfraAccess,
    private readonly policy: AccessPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** DELETE /api/database/{id}/: quarantine a live database, remove a quarantined one. */
  async delete(
    id: number,
    viewer: AuthenticatedUser,
    now = new Date(),
  ): Promise<'quarantined' | 'deleted'> {
    const database = await this.databaseService.findVisible(id, viewer);
    if (database.status === 'quarantined') {
      this.policy.assertDba(viewer, 'delete a quarantined database');
      await this.destroy(database);
      return 'deleted';
    }
    if (database.status !== 'ready')
      throw new ConflictError('The database is still being created.');
    await this.enter(database, now);
    return 'quarantined';
  }

  async enter(database: DatabaseEntity, now = new Date()): Promise<void> {
    await this.credentials.revokeAll(database);
    await this.databases.update(database.id, { status: 'quarantined', quarantineDt: isoDate(now) });
  }

  /** dba only: access comes back, every credential with a new password. */
  async restore(id: number, viewer: AuthenticatedUser): Promise<DatabaseEntity> {
    const database = await this.databaseService.findVisible(id, viewer);
    this.policy.assertDba(viewer, 'restore a database');
    if (database.status !== 'quarantined')
      throw new ConflictError('The database is not in quarantine.');
    await this.credentials.restoreAll(database);
    await this.databases.update(database.id, { status: 'ready', quarantineDt: null });
    return database;
  }

  /** Users dropped, database dropped on the engine, records deleted. */
  async destroy(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await this.credentials.dropAll(database);
    await provider.dropDatabase(target, database.name);
    await this.databases.delete(database.id);
    this.databaseService.forgetSize(database.id);
  }

  /**
   * Removes the databases quarantined for at least the retention period. One failure
   * (an engine down) does not stop the others; it is retried on the next run.
   */
  async purge(now = new Date(), onProgress?: (done: number, total: number, name: string) => void) {
    const cutoff = new Date(now.getTime() - this.config.quarantineRetentionDays * 86_400_000);
    const expired = await this.databases.find({
      where: { status: 'quarantined', quarantineDt: LessThanOrEqual(isoDate(cutoff)) },
      order: { id: 'ASC' },
    });
    const result = { purged: [] as string[], failed: [] as string[] };
    for (const [index, database] of expired.entries()) {
      try {
        await this.destroy(database);
        result.purged.push(database.name);
      } catch (error) {
        result.failed.push(database.name);
        this.logger.warn(
          `Purge of ${database.name} failed, will retry: ${(error as Error).message}`,
        );
      }
      onProgress?.(index + 1, expired.length, database.name);
    }
    return result;
  }
}
