import { dueDay, ScheduleCandidate, scheduledMoment, utcDay } from './backup-schedule';

describe('the backup schedule', () => {
  const candidate = (extra: Partial<ScheduleCandidate> = {}): ScheduleCandidate => ({
    databaseId: 1,
    databaseName: 'orders',
    backupHour: 3,
    createdAt: new Date('2026-11-01T10:00:00Z'),
    takenToday: false,
    ...extra,
  });
  const at = (iso: string) => new Date(iso);

  it('is due today once the plan hour has come, not before', () => {
    expect(dueDay(at('2026-11-29T02:59:59.999Z'), candidate())).toBeNull();
    expect(dueDay(at('2026-11-29T03:00:00Z'), candidate())).toBe('2026-11-29');
    expect(dueDay(at('2026-11-29T23:59:59Z'), candidate())).toBe('2026-11-29');
    expect(dueDay(at('2026-11-30T00:00:00Z'), candidate())).toBeNull();
    expect(dueDay(at('2026-11-30T00:00:00Z'), candidate({ backupHour: 0 }))).toBe('2026-11-30');
    expect(dueDay(at('2026-11-30T23:30:00Z'), candidate({ backupHour: 23 }))).toBe('2026-11-30');
  });

  it('is not due when the day was taken already, or when the plan has no hour', () => {
    expect(dueDay(at('2026-11-29T05:00:00Z'), candidate({ takenToday: true }))).toBeNull();
    expect(dueDay(at('2026-11-29T05:00:00Z'), candidate({ backupHour: null }))).toBeNull();
  });

  it('gives a database created after today’s hour its first backup tomorrow', () => {
    const created = candidate({ createdAt: new Date('2026-11-29T03:00:00.001Z') });
    expect(dueDay(at('2026-11-29T12:00:00Z'), created)).toBeNull();
    expect(dueDay(at('2026-11-30T03:00:00Z'), created)).toBe('2026-11-30');
    const justBefore = candidate({ createdAt: new Date('2026-11-29T03:00:00Z') });
    expect(dueDay(at('2026-11-29T03:00:01Z'), justBefore)).toBe('2026-11-29');
  });

  it('counts days and hours in UTC', () => {
    expect(utcDay(at('2026-11-29T23:59:59.999-01:00'))).toBe('2026-11-30');
    expect(scheduledMoment('2026-11-29', 7).toISOString()).toBe('2026-11-29T07:00:00.000Z');
  });
});
