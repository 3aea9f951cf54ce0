import { CredentialsService } from '@dbaas/credentials';
import { InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import { Injectable, Logger } from '@nestjs/common';
import { DatabaseRepository } from './database.repository';
import { DatabasesService } from './databases.service';
import { SizeLimitAction, sizeLimitAction } from './size-limit';

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
 * The engine first, the mark second: if the engine fails, nothing changed and the next round
 * tries again (both engine calls converge); if the mark then fails, the engine change is
 * undone, so that engine and mark agree and the next round decides again. The API runs it every DBAAS_SIZE_CHECK_INTERVAL_SECONDS.
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
        const done = await this.runner.runIfFree(key, () => this.checkLocked(database.id));
        if (done === 'restrict_writes') report.restricted.push(database.name);
        if (done === 'allow_writes') report.allowed.push(database.name);
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

  /**
   * One database, its lock held by the caller (checkAll; a plan change in place): reads it again, measures
   * it, and acts on the decision. Returns what it did (null: nothing).
   */
  async checkLocked(id: number): Promise<SizeLimitAction> {
    const [database] = await this.databases.underSizeLimits(id);
    if (!database) return null;
    const { provider, target } = await this.infras.connect(database.infraId);
    if (!provider.enforcesSizeLimit) return null;
    const used =
      database.sizeLimitInBytes > 0 ? await this.databaseService.measureNow(database) : null;
    const action = sizeLimitAction(database.sizeLimitInBytes, used, database.overSizeLimit);
    if (!action) return null;
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
        const blockWrites = (block: boolean) =>
          block
            ? provider.restrictWrites(target, database.name, users)
            : provider.allowWrites(target, database.name, users);
        const restrict = action === 'restrict_writes';
        await blockWrites(restrict);
        try {
          await this.databases.setOverSizeLimit(database.id, restrict);
        } catch (error) {
          await this.undo(database.name, () => blockWrites(!restrict));
          throw error;
        }
      },
    );
    return action;
  }

  /**
   * The engine changed but its mark could not be written: the engine goes back to what the
   * mark says, so that the next round decides from a true mark (were they left apart, a
   * database back under its limit would stay blocked for good, or one over it again would
   * never be blocked). If the undo fails too, that is logged: the next round's decision
   * is then made on a wrong mark until the store is repaired by hand.
   */
  private async undo(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error(
        `Size limit: ${name}'s engine state and its over_size_limit mark disagree: ${(error as Error).message}`,
      );
    }
  }
}
