import { Clock, ConflictError } from '@dbaas/core';
import { Injectable, Logger } from '@nestjs/common';
import { BackupRepository } from '../backup.repository';
import { BackupsService } from '../backups.service';

/** A failed backup (it has no file) is removed this long after it failed. */
export const FAILED_BACKUP_KEPT_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the backups past their `expires_at` (scheduled and final ones: finished_at + the
 * plan's retention; manual ones have none) and the failed ones a day after they failed, so
 * that their error can be read meanwhile. Each removal is BackupsService.delete, the same
 * as DELETE /api/backup/{id}/: a `delete_backup` task, `ready`/`failed` → `deleting`, the
 * file (one already gone is fine), then the row. A backup being restored is left for the
 * next round; one failure (the storage down) does not stop the others, and a row left
 * `deleting` is finished by the backups' recovery after the reconciler's round.
 */
@Injectable()
export class BackupExpiry {
  private readonly logger = new Logger('BackupExpiry');

  constructor(
    private readonly backups: BackupRepository,
    private readonly service: BackupsService,
    private readonly clock: Clock,
  ) {}

  async runOnce(): Promise<{ removed: number[]; failed: number[] }> {
    const now = this.clock.now();
    const found = [
      ...(await this.backups.expired(now)),
      ...(await this.backups.failedBefore(new Date(now.getTime() - FAILED_BACKUP_KEPT_MS))),
    ];
    const due = [...new Set(found.map((backup) => backup.id))].sort((a, b) => a - b);
    const result = { removed: [] as number[], failed: [] as number[] };
    for (const id of due) {
      try {
        await this.service.delete(id, null);
        result.removed.push(id);
      } catch (error) {
        result.failed.push(id);
        if (!(error instanceof ConflictError))
          this.logger.warn(
            `Removal of backup ${id} failed, retried next round: ${(error as Error).message}`,
          );
      }
    }
    if (result.removed.length) this.logger.log(`Removed ${result.removed.length} old backup(s)`);
    return result;
  }
}
