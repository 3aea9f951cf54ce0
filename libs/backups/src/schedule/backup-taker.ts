import { DatabaseRecord } from '@dbaas/databases';
import { TaskRecord } from '@dbaas/operations';
import { BackupKind } from '@dbaas/persistence';
import { BackupRecord } from '../backup.repository';

/**
 * TEMPORARY: the part of BackupsService (branch backup-api, docs in
 * /work/notes/backups-contract.md) the schedule and the hard delete use, until that branch
 * is merged; then BackupsService takes its place.
 */
export abstract class BackupTaker {
  abstract start(
    database: DatabaseRecord,
    kind: BackupKind,
    userId: number | null,
    options?: { scheduledFor?: string },
  ): Promise<{ backup: BackupRecord; done: Promise<BackupRecord> } | null>;

  abstract takeHeld(
    database: DatabaseRecord,
    kind: BackupKind,
    userId: number | null,
    task?: TaskRecord,
  ): Promise<BackupRecord>;
}
