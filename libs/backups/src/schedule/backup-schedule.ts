/** A day as `YYYY-MM-DD` in UTC, the format of `backup.scheduled_for`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The moment the scheduled backup of `day` is due: that day at `hour`:00 UTC. */
export function scheduledMoment(day: string, hour: number): Date {
  return new Date(`${day}T${String(hour).padStart(2, '0')}:00:00.000Z`);
}

/** A ready database as the schedule sees it (BackupScheduleRepository.candidates). */
export interface ScheduleCandidate {
  databaseId: number;
  databaseName: string;
  /** Its plan's backup hour (UTC); null = no scheduled backups. */
  backupHour: number | null;
  createdAt: Date;
  /** A scheduled backup of today (any status) exists already. */
  takenToday: boolean;
}

/**
 * The day whose scheduled backup the database is due for at `now`, or null: today (UTC)
 * once its plan's hour has come, unless that backup was taken already (by this process or
 * another; a failed one too: it is not retried before tomorrow). A database created after
 * today's hour gets its first scheduled backup tomorrow. Missed days are not caught up:
 * an API down all day takes that day's backup when it is back only if it is still that day.
 */
export function dueDay(now: Date, candidate: ScheduleCandidate): string | null {
  if (candidate.backupHour === null) return null;
  const day = utcDay(now);
  const moment = scheduledMoment(day, candidate.backupHour);
  if (now < moment) return null;
  if (candidate.createdAt > moment) return null;
  if (candidate.takenToday) return null;
  return day;
}
