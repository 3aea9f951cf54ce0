import { Clock } from '@dbaas/core';
import { DatabasesService } from '@dbaas/databases';
import { Injectable, Logger } from '@nestjs/common';
import { dueDay, utcDay } from './backup-schedule';
import { BackupScheduleRepository } from './backup-schedule.repository';
import { BackupsService } from '../backups.service';

/** What one round of the schedule did, by database name. */
export interface ScheduleRound {
  /** Backed up: the backup is `ready`. */
  taken: string[];
  /** Started but failed (the backup is `failed`; not retried before tomorrow), or refused. */
  failed: string[];
  /** Due, but another process had taken the day's backup meanwhile. */
  takenElsewhere: string[];
}

/**
 * The daily scheduled backups (SPEC §9): once a day per database, at its plan's
 * `backup_hour` (UTC). A round finds the ready databases whose hour has come today and that
 * have no scheduled backup of today, and backs them up one after another.
 *
 * Exactly once across the API processes sharing a store: the round runs in one process at a
 * time (the job's store lock, JobScheduler); and should two rounds still meet, the store
 * takes one scheduled backup per database and day (a unique index: the second
 * `insertRunning` gets null, BackupsService.start answers null). Each backup runs under its
 * database's lock like every operation.
 */
@Injectable()
export class ScheduledBackups {
  private readonly logger = new Logger('ScheduledBackups');
  private stopping = false;

  constructor(
    private readonly schedule: BackupScheduleRepository,
    private readonly databases: DatabasesService,
    private readonly backups: BackupsService,
    private readonly clock: Clock,
  ) {}

  async runOnce(): Promise<ScheduleRound> {
    const now = this.clock.now();
    const round: ScheduleRound = { taken: [], failed: [], takenElsewhere: [] };
    for (const candidate of await this.schedule.candidates(utcDay(now))) {
      // Shutdown waits for the backup under way, not for the rest of the round.
      if (this.stopping) break;
      const day = dueDay(now, candidate);
      if (!day) continue;
      const database = await this.databases.find(candidate.databaseId);
      // Quarantined or deleted since the candidates were read.
      if (database?.status !== 'ready') continue;
      try {
        const started = await this.backups.start(database, 'scheduled', null, {
          scheduledFor: day,
        });
        if (!started) {
          round.takenElsewhere.push(database.name);
          continue;
        }
        const backup = await started.done;
        if (backup.status !== 'ready')
          throw new Error(backup.error ?? `backup ${backup.id} failed`);
        round.taken.push(database.name);
      } catch (error) {
        round.failed.push(database.name);
        this.logger.warn(
          `Scheduled backup of ${database.name} for ${day} failed: ${(error as Error).message}`,
        );
      }
    }
    if (round.taken.length || round.failed.length) {
      this.logger.log(
        `Scheduled backups: ${round.taken.length} taken, ${round.failed.length} failed`,
      );
    }
    return round;
  }

  /** The API is shutting down: a running round ends after its current backup. */
  stop(): void {
    this.stopping = true;
  }
}
