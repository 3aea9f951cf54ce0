import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { BackupRecord, BackupsService } from '@dbaas/backups';
import { Plan, PlanRepository } from '@dbaas/catalog';
import {
  AppConfig,
  ConflictError,
  DeletionProtectedError,
  EngineUnavailableError,
  ForbiddenError,
} from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabaseRecord, DatabaseRow, DatabasesService } from '@dbaas/databases';
import { ConnectedInfra, InfraAccess } from '@dbaas/engines';
import { OperationRunner, TaskRecord, TaskSubject } from '@dbaas/operations';
import { DatabaseStatus } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };
const regular: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };

const database = (status: DatabaseStatus, id = 5, name = 'orders') =>
  ({ id, name, status, environmentId: 1, teamId: 1, infraId: 3, planId: 4 }) as DatabaseRecord;

describe('QuarantineService', () => {
  /** What the service did, in order: the invariants are about order. */
  let log: string[];
  /** The row as a read under the lock finds it. */
  let current: DatabaseRecord | null;
  let databases: jest.Mocked<
    Pick<
      DatabasesService,
      | 'findVisible'
      | 'find'
      | 'ensureReachable'
      | 'transition'
      | 'destroy'
      | 'quarantinedSince'
      | 'all'
    >
  >;
  let credentials: jest.Mocked<Pick<CredentialsService, 'revokeAll' | 'restoreAll'>>;
  let runner: jest.Mocked<Pick<OperationRunner, 'run'>>;
  let backups: jest.Mocked<Pick<BackupsService, 'takeHeld'>>;
  /** The database's plan keeps backups this many days. */
  let retentionDays: number;
  /** Whether the engine has the database. */
  let onEngine: boolean;
  let sut: QuarantineService;

  beforeEach(() => {
    log = [];
    current = database('ready');
    databases = {
      findVisible: jest.fn(async (_id, _viewer) => current!),
      find: jest.fn(async (_id) => current),
      ensureReachable: jest.fn(async (_row) => void log.push('ping')),
      transition: jest.fn(async (row, to, extra) => {
        const date = extra?.quarantineDt;
        log.push(date === undefined ? to : `${to} ${date}`);
        row.status = to;
      }),
      quarantinedSince: jest.fn(async (_day: string): Promise<DatabaseRow[]> => []),
      all: jest.fn(async (): Promise<DatabaseRow[]> => []),
      destroy: jest.fn(async (row) => void log.push(`destroy ${row.name}`)),
    };
    credentials = {
      revokeAll: jest.fn(async (_row) => void log.push('revoke all')),
      restoreAll: jest.fn(
        async (_row, fresh) => void log.push(`restore all${fresh ? ' with new passwords' : ''}`),
      ),
    };
    runner = {
      run: jest.fn(
        async (subject: TaskSubject, key: string, work: (task: TaskRecord) => Promise<unknown>) => {
          log.push(`task ${subject.type} under ${key}`);
          return work({ id: 9 } as TaskRecord);
        },
      ) as jest.Mocked<OperationRunner>['run'],
    };
    retentionDays = 7;
    onEngine = true;
    const infras = {
      connect: async () =>
        ({
          provider: {
            listsEveryDatabase: true,
            listDatabases: async () => (onEngine ? ['orders', 'billing'] : ['billing']),
          },
          target: {},
        }) as unknown as ConnectedInfra,
    } as unknown as InfraAccess;
    backups = {
      takeHeld: jest.fn(async (row, kind, userId, task) => {
        log.push(`${kind} backup of ${row.name} (${row.status}) by ${userId} in task ${task?.id}`);
        return { id: 1, status: 'ready' } as BackupRecord;
      }),
    };
    const plans = {
      findById: async (id: number) => ({ id, backupRetentionDays: retentionDays }) as Plan,
    } as PlanRepository;
    sut = new QuarantineService(
      databases as unknown as DatabasesService,
      credentials as unknown as CredentialsService,
      runner as unknown as OperationRunner,
      new AccessPolicy(),
      backups as unknown as BackupsService,
      plans,
      infras,
      { quarantineRetentionDays: 7 } as AppConfig,
    );
  });

  describe('a protected database (is_protected)', () => {
    it('refuses the first DELETE before any task: nothing is written', async () => {
      current = { ...database('ready'), isProtected: true };

      await expect(sut.delete(5, regular)).rejects.toBeInstanceOf(DeletionProtectedError);

      expect(log).toEqual([]);
    });

    it('refuses the second DELETE (dba) too', async () => {
      current = { ...database('quarantined'), isProtected: true };

      await expect(sut.delete(5, dba)).rejects.toBeInstanceOf(DeletionProtectedError);

      expect(databases.destroy).not.toHaveBeenCalled();
    });

    it('refuses under the lock when it became protected meanwhile, before any change', async () => {
      databases.findVisible.mockResolvedValueOnce(database('ready'));
      current = { ...database('ready'), isProtected: true };

      await expect(sut.delete(5, regular)).rejects.toBeInstanceOf(DeletionProtectedError);

      expect(databases.transition).not.toHaveBeenCalled();
      expect(credentials.revokeAll).not.toHaveBeenCalled();
    });

    it('stays out of the purge', async () => {
      databases.quarantinedSince.mockResolvedValue([database('quarantined')]);
      current = { ...database('quarantined'), isProtected: true };

      const result = await sut.purge(new Date('2026-04-30T00:00:00Z'));

      expect(databases.destroy).not.toHaveBeenCalled();
      // Protected after it was listed: reported as kept, not as purged.
      expect(result).toEqual({ purged: [], kept: ['orders'], failed: [] });
    });
  });

  describe('the first DELETE', () => {
    // The clock, frozen just before a UTC midnight: the date must be that UTC day's.
    beforeEach(() => {
      jest.useFakeTimers({
        now: new Date('2026-03-31T23:59:59.999Z'),
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
    });
    afterEach(() => jest.useRealTimers());

    it('checks the engine answers, then marks, revokes and dates the quarantine', async () => {
      await expect(sut.delete(5, regular)).resolves.toBe('quarantined');

      expect(log).toEqual([
        'task quarantine_database under database:1:orders',
        'ping',
        'quarantining',
        'revoke all',
        'quarantined 2026-03-31',
      ]);
    });

    it('changes nothing when the engine does not answer', async () => {
      databases.ensureReachable.mockRejectedValue(
        new EngineUnavailableError('mysql at db1:3306 does not answer'),
      );

      await expect(sut.delete(5, regular)).rejects.toBeInstanceOf(EngineUnavailableError);

      expect(databases.transition).not.toHaveBeenCalled();
      expect(credentials.revokeAll).not.toHaveBeenCalled();
    });

    it('is done when a concurrent DELETE quarantined the database first (never a second step)', async () => {
      databases.findVisible.mockResolvedValue(database('ready'));
      current = database('quarantined');

      await expect(sut.delete(5, dba)).resolves.toBe('quarantined');

      expect(databases.destroy).not.toHaveBeenCalled();
      expect(databases.transition).not.toHaveBeenCalled();
    });

    it('refuses a database in the middle of another operation', async () => {
      databases.findVisible.mockResolvedValue(database('ready'));
      current = database('creating');

      await expect(sut.delete(5, dba)).rejects.toMatchObject({
        name: ConflictError.name,
        message: 'The database is creating.',
      });

      expect(databases.transition).not.toHaveBeenCalled();
      expect(credentials.revokeAll).not.toHaveBeenCalled();
    });

    it('pings the engine while it reads the row under the lock, and waits for both before any change', async () => {
      let answer!: () => void;
      databases.find.mockImplementation(async () => {
        log.push('read under the lock');
        return current;
      });
      databases.ensureReachable.mockImplementation(() => {
        log.push('ping sent');
        return new Promise<void>((resolve) => (answer = resolve));
      });

      const deleting = sut.delete(5, regular);
      await new Promise((resolve) => setImmediate(resolve));
      expect(log).toEqual([
        'task quarantine_database under database:1:orders',
        'ping sent',
        'read under the lock',
      ]);
      answer();
      await deleting;

      expect(log.slice(3)).toEqual(['quarantining', 'revoke all', 'quarantined 2026-03-31']);
    });
  });

  describe('the second DELETE', () => {
    beforeEach(() => (current = database('quarantined')));

    it('is for a dba only, and removes nothing for anyone else', async () => {
      await expect(sut.delete(5, regular)).rejects.toMatchObject({
        name: ForbiddenError.name,
        message: 'Only a dba may delete a quarantined database.',
      });

      expect(runner.run).not.toHaveBeenCalled();
      expect(databases.destroy).not.toHaveBeenCalled();
    });

    it('checks the engine answers, takes the final backup under the lock, then removes the database for good', async () => {
      await expect(sut.delete(5, dba)).resolves.toBe('deleted');

      expect(log).toEqual([
        'task delete_database under database:1:orders',
        'ping',
        'final backup of orders (quarantined) by 1 in task 9',
        'destroy orders',
      ]);
    });

    it('stops with a 503 and removes nothing when the final backup fails', async () => {
      backups.takeHeld.mockRejectedValue(new Error('pg_dump failed (exit code 1)'));

      const failing = sut.delete(5, dba);

      await expect(failing).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(failing).rejects.toThrow(
        /final backup of orders failed \(pg_dump failed \(exit code 1\)\); the database is still quarantined.*skip_backup=true/,
      );
      expect(databases.destroy).not.toHaveBeenCalled();
      expect(databases.transition).not.toHaveBeenCalled();
    });

    it('deletes without a final backup a database its engine does not have any more', async () => {
      backups.takeHeld.mockRejectedValue(new Error('database "orders" does not exist'));
      onEngine = false;
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

      await expect(sut.delete(5, dba)).resolves.toBe('deleted');

      expect(log.at(-1)).toBe('destroy orders');
      expect(warn).toHaveBeenCalledWith(
        'orders is not on its engine: deleted without a final backup',
      );
      warn.mockRestore();
    });

    it('treats a final backup that ends failed as a failure', async () => {
      backups.takeHeld.mockResolvedValue({
        id: 1,
        status: 'failed',
        error: 'disk full',
      } as BackupRecord);

      await expect(sut.delete(5, dba)).rejects.toThrow(
        /final backup of orders failed \(disk full\)/,
      );
      expect(databases.destroy).not.toHaveBeenCalled();
    });

    it('takes no final backup with ?skip_backup=true, or when the plan keeps none (0 days)', async () => {
      backups.takeHeld.mockRejectedValue(new Error('storage down'));
      await expect(sut.delete(5, dba, { skipBackup: true })).resolves.toBe('deleted');

      current = database('quarantined');
      retentionDays = 0;
      await expect(sut.delete(5, dba)).resolves.toBe('deleted');

      expect(backups.takeHeld).not.toHaveBeenCalled();
      expect(databases.destroy).toHaveBeenCalledTimes(2);
    });
  });

  describe('restore', () => {
    it('gives access back with new passwords and clears the quarantine date', async () => {
      current = database('quarantined');

      await sut.restore(5, dba);

      expect(log).toEqual([
        'task restore_database under database:1:orders',
        'ping',
        'restoring',
        'restore all with new passwords',
        'ready null',
      ]);
    });

    it('refuses a database that is not in quarantine', async () => {
      await expect(sut.restore(5, dba)).rejects.toMatchObject({
        name: ConflictError.name,
        message: 'The database is not in quarantine.',
      });

      expect(credentials.restoreAll).not.toHaveBeenCalled();
    });

    it('is for a dba only', async () => {
      current = database('quarantined');

      await expect(sut.restore(5, regular)).rejects.toMatchObject({
        name: ForbiddenError.name,
        message: 'Only a dba may restore a database.',
      });

      expect(runner.run).not.toHaveBeenCalled();
    });
  });

  describe('purge', () => {
    it('removes every expired database, going on past one whose engine fails', async () => {
      const first = database('quarantined', 5, 'orders');
      const second = database('quarantined', 6, 'billing');
      databases.quarantinedSince.mockResolvedValue([first, second]);
      databases.find.mockImplementation(async (id) => (id === 5 ? first : second));
      databases.destroy.mockImplementation(async (row) => {
        if (row.id === 5) throw new EngineUnavailableError('mysql at db1:3306 does not answer');
        log.push(`destroy ${row.name}`);
      });
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

      await expect(sut.purge(new Date('2026-11-27T12:00:00Z'))).resolves.toEqual({
        purged: ['billing'],
        kept: [],
        failed: ['orders'],
      });
      expect(log).toContain('destroy billing');
      expect(log).toContain('final backup of billing (quarantined) by null in task 9');
      expect(databases.ensureReachable).not.toHaveBeenCalled(); // no ping: destroy itself fails fast
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('Purge of orders failed'));
      warn.mockRestore();
    });

    it('does not purge a database whose final backup fails (retried next run)', async () => {
      databases.quarantinedSince.mockResolvedValue([database('quarantined')]);
      current = database('quarantined');
      backups.takeHeld.mockRejectedValue(new Error('storage down'));
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

      await expect(sut.purge(new Date('2026-11-27T12:00:00Z'))).resolves.toEqual({
        purged: [],
        kept: [],
        failed: ['orders'],
      });
      expect(databases.destroy).not.toHaveBeenCalled();
      warn.mockRestore();
    });

    it('leaves a database alone that was restored between the listing and its turn', async () => {
      databases.quarantinedSince.mockResolvedValue([database('quarantined')]);
      current = database('ready');

      await sut.purge(new Date('2026-11-27T12:00:00Z'));

      expect(databases.destroy).not.toHaveBeenCalled();
    });
  });

  describe('what each step records and checks', () => {
    const down = () =>
      databases.ensureReachable.mockRejectedValue(
        new EngineUnavailableError('mysql at db1:3306 does not answer'),
      );

    it('runs the step as a task of the user, on the database and its team', async () => {
      await sut.delete(5, regular);

      expect(runner.run).toHaveBeenCalledWith(
        {
          type: 'quarantine_database',
          userId: 2,
          databaseId: 5,
          databaseName: 'orders',
          teamId: 1,
        },
        'database:1:orders',
        expect.any(Function),
      );
    });

    it('quarantines a lost database the same way (its remaining logins are revoked)', async () => {
      current = database('lost');

      await expect(sut.delete(5, regular)).resolves.toBe('quarantined');

      expect(log.slice(2, 4)).toEqual(['quarantining', 'revoke all']);
    });

    it('refuses a database whose row is gone once the lock is held, changing nothing', async () => {
      databases.findVisible.mockResolvedValue(database('ready'));
      current = null;

      await expect(sut.delete(5, regular)).rejects.toThrow(/database.*5/);

      expect(databases.transition).not.toHaveBeenCalled();
      expect(credentials.revokeAll).not.toHaveBeenCalled();
    });

    it('removes nothing on the second DELETE when the engine does not answer', async () => {
      current = database('quarantined');
      down();

      await expect(sut.delete(5, dba)).rejects.toBeInstanceOf(EngineUnavailableError);

      expect(databases.destroy).not.toHaveBeenCalled();
    });

    it('restores nothing when the engine does not answer', async () => {
      current = database('quarantined');
      down();

      await expect(sut.restore(5, dba)).rejects.toBeInstanceOf(EngineUnavailableError);

      expect(databases.transition).not.toHaveBeenCalled();
      expect(credentials.restoreAll).not.toHaveBeenCalled();
    });
  });

  describe('purge, the listing and the progress', () => {
    it('lists the databases quarantined on or before now minus the retention, oldest id first', async () => {
      databases.quarantinedSince.mockResolvedValue([]);

      await expect(sut.purge(new Date('2026-11-27T12:00:00Z'))).resolves.toEqual({
        purged: [],
        kept: [],
        failed: [],
      });

      expect(databases.quarantinedSince).toHaveBeenCalledWith('2026-11-20');
    });

    it('reports progress after each database, failed ones included, as a task of nobody', async () => {
      const first = database('quarantined', 5, 'orders');
      const second = database('quarantined', 6, 'billing');
      databases.quarantinedSince.mockResolvedValue([first, second]);
      databases.find.mockImplementation(async (id) => (id === 5 ? first : second));
      databases.destroy.mockImplementation(async (row) => {
        if (row.id === 5) throw new EngineUnavailableError('mysql at db1:3306 does not answer');
      });
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const progress: unknown[] = [];

      await sut.purge(new Date('2026-11-27T12:00:00Z'), (...args) => progress.push(args));

      expect(progress).toEqual([
        [1, 2, 'orders'],
        [2, 2, 'billing'],
      ]);
      expect(runner.run.mock.calls.map(([subject]) => subject)).toEqual([
        { type: 'purge_database', userId: null, databaseId: 5, databaseName: 'orders', teamId: 1 },
        { type: 'purge_database', userId: null, databaseId: 6, databaseName: 'billing', teamId: 1 },
      ]);
      warn.mockRestore();
    });
  });

  describe('destroyAll (sample-data reset)', () => {
    it('drops every database from its engine in id order, going on past a failure', async () => {
      const first = database('ready', 5, 'orders');
      const second = database('quarantined', 6, 'billing');
      databases.all.mockResolvedValue([first, second]);
      databases.find.mockImplementation(async (id) => (id === 5 ? first : second));
      databases.destroy.mockImplementation(async (row) => {
        if (row.id === 5) throw new Error('engine gone');
        log.push(`destroy ${row.name}`);
      });
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

      await sut.destroyAll();

      expect(databases.all).toHaveBeenCalled();
      expect(log).toEqual([
        'task delete_database under database:1:orders',
        'task delete_database under database:1:billing',
        'destroy billing',
      ]);
      expect(databases.ensureReachable).not.toHaveBeenCalled();
      expect(backups.takeHeld).not.toHaveBeenCalled(); // no final backup on a reset
      expect(warn).toHaveBeenCalledWith('Could not drop orders from its engine: engine gone');
      warn.mockRestore();
    });
  });
});
