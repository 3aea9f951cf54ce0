import { CredentialsService } from '@dbaas/credentials';
import { InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import { Injectable, Logger } from '@nestjs/common';
import { DatabaseRepository } from './database.repository';
import { DatabasesService } from './databases.service';
import { sizeLimitAction } from './size-limit';

/** What one round changed, by database name. */
export interface SizeLimitReport {
  /** Now over their limit: writes blocked (task `restrict_writes`). */
  restricted: string[];
  /** Back under their limit (or it was removed): writes allowed again (task `allow_writes`). */
  allowed: string[];
}

/**
 * The size limit (SPEC §10): every `ready` database whose plan has a size limit (or that is
 * marked over one) is measured on its engine, under its lock (OperationRunner.runIfFree: a
 * database with work in flight waits for the next round, and of several API processes only
 * one checks it). Over the limit, every credential keeps read and delete only
 * (EngineProvider.restrictWrites) and the database is marked `over_size_limit`; back under
 * it, write access returns (allowWrites). Each change is a system task of the database.
 * The engine first, the mark second: a failure in between is retried next round (both
 * engine calls converge). The API runs it every DBAAS_SIZE_CHECK_INTERVAL_SECONDS.
 */
@Injectable()
export class SizeLimitCheck {
  private readonly logger = new Logger('SizeLimit');

  constructor(
    private readonly databases: DatabaseRepository,
    private readonly databaseService: DatabasesService,
    private readonly credentials: CredentialsService,
    private readonly infras: InfraAccess,
    private readonly runner: OperationRunner,
  ) {}

  async checkAll(): Promise<SizeLimitReport> {
    const report: SizeLimitReport = { restricted: [], allowed: [] };
    for (const database of await this.databases.underSizeLimits()) {
      const key = databaseLockKey(database.environmentId, database.name);
      try {
        await this.runner.runIfFree(key, () => this.check(database.id, report));
      } catch (error) {
        this.logger.warn(
          `Size check of ${database.name} failed, retried next round: ${(error as Error).message}`,
        );
      }
    }
    const changes = [
      ...report.restricted.map((name) => `${name} over its size limit, writes blocked`),
      ...report.allowed.map((name) => `${name} under its size limit, writes allowed`),
    ];
    if (changes.length) this.logger.log(changes.join(', '));
    return report;
  }

  /** Under the database's lock: reads it again, measures it, and acts on the decision. */
  private async check(id: number, report: SizeLimitReport): Promise<void> {
    const [database] = await this.databases.underSizeLimits(id);
    if (!database) return;
    const { provider, target } = await this.infras.connect(database.infraId);
    if (!provider.enforcesSizeLimit) return;
    const used =
      database.sizeLimitInBytes > 0 ? await this.databaseService.measureNow(database) : null;
    const action = sizeLimitAction(database.sizeLimitInBytes, used, database.overSizeLimit);
    if (!action) return;
    const users = (await this.credentials.sealedOfDatabase(id))
      .filter((credential) => credential.status !== 'deleting')
      .map(({ user, privileges }) => ({ user, privileges }));
    const why =
      database.sizeLimitInBytes > 0
        ? `size limit: ${used} of ${database.sizeLimitInBytes} bytes used`
        : 'size limit: the plan has none any more';
    await this.runner.record(
      {
        type: action,
        userId: null,
        databaseId: database.id,
        databaseName: database.name,
        teamId: database.teamId,
        origin: why,
      },
      async () => {
        if (action === 'restrict_writes') {
          await provider.restrictWrites(target, database.name, users);
          await this.databases.setOverSizeLimit(database.id, true);
          report.restricted.push(database.name);
        } else {
          await provider.allowWrites(target, database.name, users);
          await this.databases.setOverSizeLimit(database.id, false);
          report.allowed.push(database.name);
        }
      },
    );
  }
}
