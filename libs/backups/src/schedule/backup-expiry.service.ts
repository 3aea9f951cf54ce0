import { Clock } from '@dbaas/core';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import { Injectable, Logger } from '@nestjs/common';
import { BackupFiles } from '../backup-files';
import { BackupRecord, BackupRepository } from '../backup.repository';

/** A failed backup (it has no file) is removed this long after it finished. */
export const FAILED_BACKUP_KEPT_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the backups past their `expires_at` (scheduled and final ones: finished_at + the
 * plan's retention), the failed ones a day after they failed, and finishes removals a
 * process did not finish (`deleting`). Each removal is a `delete_backup` task under the
 * database's lock (no restore reads the file meanwhile): `ready`/`failed` → `deleting`, the
 * file is deleted (one already gone is fine), then the row. One failure (the storage
 * down) does not stop the others; the row stays `deleting` and the next round finishes it.
 */
@Injectable()
export class BackupExpiry {
  private readonly logger = new Logger('BackupExpiry');

  constructor(
    private readonly backups: BackupRepository,
    private readonly files: BackupFiles,
    private readonly runner: OperationRunner,
    private readonly clock: Clock,
  ) {}

  async runOnce(): Promise<{ removed: number[]; failed: number[] }> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - FAILED_BACKUP_KEPT_MS);
    const found = [
      ...(await this.backups.expired(now)),
      ...(await this.backups.failedBeforeOrDeleting(cutoff)),
    ];
    const due = [...new Map(found.map((backup) => [backup.id, backup])).values()];
    const result = { removed: [] as number[], failed: [] as number[] };
    for (const backup of due) {
      try {
        await this.remove(backup);
        result.removed.push(backup.id);
      } catch (error) {
        result.failed.push(backup.id);
        this.logger.warn(
          `Removal of backup ${backup.id} failed, retried next round: ${(error as Error).message}`,
        );
      }
    }
    if (result.removed.length) this.logger.log(`Removed ${result.removed.length} old backups`);
    return result;
  }

  private async remove(backup: BackupRecord): Promise<void> {
    const subject = {
      type: 'delete_backup' as const,
      userId: null,
      databaseId: backup.databaseId,
      databaseName: backup.databaseName,
      teamId: backup.teamId,
    };
    await this.runner.run(
      subject,
      databaseLockKey(backup.environmentId, backup.databaseName),
      async () => {
        // As it is now that the lock is held: another process may have removed it.
        const current = await this.backups.find(backup.id);
        if (!current) return;
        if (current.status === 'ready' || current.status === 'failed') {
          await this.backups.transition(current.id, current.status, 'deleting');
        } else if (current.status !== 'deleting') {
          return;
        }
        await this.files.delete(current.fileKey);
        await this.backups.delete(current.id);
      },
    );
  }
}
