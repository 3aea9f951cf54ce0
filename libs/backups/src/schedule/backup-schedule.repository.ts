import { BackupEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ScheduleCandidate } from './backup-schedule';

/**
 * What the backup schedule reads: the ready databases whose plan has a backup hour, each
 * with whether its scheduled backup of the day exists. It reads the `database` and `plan`
 * tables (owned by the databases and catalog libs) with the `backup` table in one statement,
 * as the placement rule reads `database` from the catalog; it writes nothing.
 */
@Injectable()
export class BackupScheduleRepository {
  constructor(@InjectRepository(BackupEntity) private readonly backups: Repository<BackupEntity>) {}

  /** In database id order; `day` is the UTC day (`YYYY-MM-DD`) checked for a backup. */
  async candidates(day: string): Promise<ScheduleCandidate[]> {
    const rows = await this.backups.query<
      { id: number; name: string; backup_hour: number; created_at: Date; taken: boolean }[]
    >(
      `SELECT d.id, d.name, p.backup_hour, d.created_at,
              EXISTS (SELECT 1 FROM backup b
                      WHERE b.database_id = d.id AND b.scheduled_for = $1::date) AS taken
       FROM database d JOIN plan p ON p.id = d.plan_id
       WHERE d.status = 'ready' AND p.backup_hour IS NOT NULL
       ORDER BY d.id`,
      [day],
    );
    return rows.map((row) => ({
      databaseId: row.id,
      databaseName: row.name,
      backupHour: row.backup_hour,
      createdAt: row.created_at,
      takenToday: row.taken,
    }));
  }
}
