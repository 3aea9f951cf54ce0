import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  generatePassword,
  NotFoundError,
  Page,
  PageRequest,
  SecretBox,
  skipTake,
  testFault,
  ValidationFailedError,
} from '@dbaas/core';
import { InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import {
  CredentialEntity,
  CredentialPrivileges,
  DatabaseEntity,
  DatabaseStatus,
  TaskType,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository, SelectQueryBuilder } from 'typeorm';
import { checkUserName } from './user-names';

/** A credential together with its plaintext password (detail, create and reset only). */
export interface RevealedCredential {
  credential: CredentialEntity;
  password: string;
}

/** What dropping or undoing a credential needs of its record. */
type CredentialRecord = Pick<CredentialEntity, 'id' | 'user' | 'status' | 'databaseId'>;

export interface CredentialInput {
  user: string;
  database: number;
  privileges?: CredentialPrivileges;
}

/** Why a database takes no credential work, for a 409. */
function notUsable(status: DatabaseStatus): string {
  if (status === 'lost') return 'The database is lost (missing on its engine server)';
  return 'The database is in quarantine';
}

/**
 * Credentials: users on the engine, one database each. The public operations run through
 * the OperationRunner (a task, under the database's lock); the `…All` helpers are the
 * building blocks of database operations, which already hold that lock.
 */
@Injectable()
export class CredentialsService {
  constructor(
    @InjectRepository(CredentialEntity) private readonly credentials: Repository<CredentialEntity>,
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    private readonly secrets: SecretBox,
    private readonly infras: InfraAccess,
    private readonly policy: AccessPolicy,
    private readonly runner: OperationRunner,
  ) {}

  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: { database?: number } = {},
  ): Promise<Page<CredentialEntity>> {
    const query = this.visible(viewer).orderBy('credential.id', 'ASC');
    if (filter.database !== undefined)
      query.andWhere('credential.databaseId = :db', { db: filter.database });
    const { skip, take } = skipTake(page);
    const [items, count] = await query.skip(skip).take(take).getManyAndCount();
    return { items, count };
  }

  /** The credential and its password, if the viewer may see its database. */
  async reveal(id: number, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const credential = await this.visible(viewer)
      .addSelect('credential.passwordEncrypted')
      .andWhere('credential.id = :id', { id })
      .getOne();
    if (!credential) throw new NotFoundError('credential', id);
    return { credential, password: this.secrets.decrypt(credential.passwordEncrypted) };
  }

  async create(input: CredentialInput, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const database = await this.databases.findOneBy({ id: input.database });
    // Another team's database is as unknown as a missing one: 404 on every route.
    if (!database || !this.policy.canSeeDatabase(viewer, database))
      throw new NotFoundError('database', input.database);
    return this.onDatabase('create_credential', database, viewer, (current) => {
      // `creating` is for the default credential of a database being made, not for callers.
      if (current.status !== 'ready')
        throw new ConflictError(`The database is ${current.status}: it takes no new credentials.`);
      return this.createFor(current, input.user, input.privileges ?? 'owner');
    });
  }

  /**
   * Writes the record first (status `creating`, password sealed), then the user on the
   * engine. A failure drops the user again and removes the record; a crash leaves the
   * `creating` record for the reconciler to roll back. The caller holds the database lock.
   * `markReady: false`: the caller marks the record ready itself (a database create does
   * it with the database, in one statement).
   */
  async createFor(
    database: DatabaseEntity,
    rawUser: string,
    privileges: CredentialPrivileges,
    options: { markReady?: boolean } = {},
  ): Promise<RevealedCredential> {
    if (database.status !== 'ready' && database.status !== 'creating') {
      throw new ConflictError(`${notUsable(database.status)}: it takes no new credentials.`);
    }
    const { provider, target } = await this.infras.connect(database.infraId);
    const { name: user, problem } = checkUserName(rawUser, provider, target.adminUser);
    if (problem) throw new ValidationFailedError({ user: [problem] });
    // The name must be free in the store (a 409 first: bad input wins over a down engine)
    // and on the engine, both asked at once. The engine call gives a 503 before anything is
    // written when the engine is down, and a login dbaas did not make is never taken over
    // (createUser converges on an existing user). The insert below claims the name.
    const taken = () => new ConflictError(`The user ${user} already exists on this engine server.`);
    const [inStore, onEngine] = await Promise.allSettled([
      this.credentials.query<{ taken: boolean }[]>(
        'SELECT EXISTS (SELECT 1 FROM credential WHERE infra_id = $1 AND "user" = $2) AS taken',
        [database.infraId, user],
      ),
      provider.userExists(target, user),
    ]);
    if (inStore.status === 'fulfilled' && inStore.value[0].taken) throw taken();
    if (inStore.status === 'rejected') throw inStore.reason;
    if (onEngine.status === 'rejected') throw onEngine.reason;
    if (onEngine.value) throw taken();
    const password = generatePassword();
    const saved = this.credentials.create({
      user,
      databaseId: database.id,
      infraId: database.infraId,
      privileges,
      status: 'creating',
      passwordEncrypted: this.secrets.encrypt(password),
    });
    // The name is claimed in the store by the insert itself (unique per infra).
    const [inserted] = await this.credentials.query<{ id: number; created_at: Date | string }[]>(
      `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (infra_id, "user") DO NOTHING
       RETURNING id, created_at`,
      [
        saved.user,
        saved.databaseId,
        saved.infraId,
        saved.privileges,
        saved.status,
        saved.passwordEncrypted,
      ],
    );
    if (!inserted) throw taken();
    saved.id = Number(inserted.id);
    saved.createdAt = new Date(inserted.created_at);
    const ref = { database: database.name, user };
    try {
      await provider.createUser(target, { ...ref, password, privileges });
      const step =
        options.markReady === false ? 'database-owner-created' : 'credential-user-created';
      testFault(step, database.name);
      if (options.markReady !== false) {
        await this.credentials.query(`UPDATE credential SET status = 'ready' WHERE id = $1`, [
          saved.id,
        ]);
      }
    } catch (error) {
      await this.rollBackCreate(saved).catch(() => undefined);
      throw error;
    }
    // The record as a read would give it, without the sealed password.
    const credential = this.credentials.create({
      ...saved,
      status: options.markReady === false ? 'creating' : 'ready',
    });
    delete (credential as Partial<CredentialEntity>).passwordEncrypted;
    return { credential, password };
  }

  async resetPassword(id: number, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const { credential } = await this.reveal(id, viewer);
    const database = await this.databases.findOneByOrFail({ id: credential.databaseId });
    return this.onDatabase('reset_password', database, viewer, async (current) => {
      if (current.status !== 'ready')
        throw new ConflictError(`${notUsable(current.status)}: passwords cannot be reset.`);
      // `resetting`: a reset an engine failure interrupted may be retried.
      const fresh = await this.credentials.findOneBy({ id, status: In(['ready', 'resetting']) });
      if (!fresh) throw new NotFoundError('credential', id);
      const { provider, target } = await this.infras.connect(current.infraId);
      // A 503 that changes nothing while the engine is down.
      await provider.ping(target);
      // The store first: if the engine or this process fails from here, the stored password
      // is the one the reconciler puts on the engine, so the two never disagree for long.
      const password = generatePassword();
      await this.credentials.update(id, {
        status: 'resetting',
        passwordEncrypted: this.secrets.encrypt(password),
      });
      testFault('password-stored', current.name);
      await provider.setPassword(target, { database: current.name, user: fresh.user }, password);
      await this.credentials.update(id, { status: 'ready' });
      fresh.status = 'ready';
      return { credential: fresh, password };
    });
  }

  /**
   * Drops the user on the engine, then the record. A database keeps an owner until it is
   * deleted itself: its last owner credential is refused (409), before the task (so the usual
   * refusal writes nothing at all) and again under the lock (the answer that counts).
   * The broker's unbind passes `lastOwner: 'allow'`: a platform's unbind must always succeed
   * (OSB), and a Redis prefix stays claimed by its keys (EngineProvider.databaseExists).
   */
  async remove(
    id: number,
    viewer: AuthenticatedUser,
    options: { lastOwner: 'refuse' | 'allow' } = { lastOwner: 'refuse' },
  ): Promise<void> {
    const { credential } = await this.reveal(id, viewer);
    if (options.lastOwner === 'refuse') await this.refuseLastOwner(credential);
    const database = await this.databases.findOneByOrFail({ id: credential.databaseId });
    await this.onDatabase('delete_credential', database, viewer, async (current) => {
      const fresh = await this.credentials.findOneBy({ id });
      if (!fresh) throw new NotFoundError('credential', id);
      if (options.lastOwner === 'refuse') await this.refuseLastOwner(fresh);
      // A 503 that changes nothing while the engine is down; past this point, the reconciler finishes.
      const { provider, target } = await this.infras.connect(current.infraId);
      await provider.ping(target);
      await this.credentials.update(id, { status: 'deleting' });
      testFault('credential-marked-deleting', current.name);
      await this.drop(current, fresh);
    });
  }

  /** Quarantine: every credential gets an unknown password, no login and no open session. */
  async revokeAll(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.usersOf(database)) {
      await provider.revokeAccess(target, { database: database.name, user: credential.user });
      testFault('access-revoked', database.name);
    }
  }

  /**
   * Access comes back. `newPasswords`: every credential gets a fresh one (a restore);
   * otherwise the stored passwords are put back (undoing an interrupted quarantine).
   */
  async restoreAll(database: DatabaseEntity, newPasswords: boolean): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    const credentials = await this.credentials
      .createQueryBuilder('credential')
      .addSelect('credential.passwordEncrypted')
      .where('credential.databaseId = :id', { id: database.id })
      .getMany();
    for (const credential of credentials) {
      const password = newPasswords
        ? generatePassword()
        : this.secrets.decrypt(credential.passwordEncrypted);
      await provider.restoreAccess(target, {
        database: database.name,
        user: credential.user,
        password,
        privileges: credential.privileges,
      });
      if (newPasswords)
        await this.credentials.update(credential.id, {
          passwordEncrypted: this.secrets.encrypt(password),
        });
      testFault('access-restored', database.name);
    }
  }

  /**
   * Drops every user of the database on the engine (a user already gone is no error); the
   * records go with the database row (DatabasesService.destroy).
   */
  async dropUsers(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.usersOf(database)) {
      await provider.dropUser(target, { database: database.name, user: credential.user });
    }
  }

  /** Reconciler: finishes or undoes credential work a dead process or a failed engine left behind. */
  async reconcile(database: DatabaseEntity): Promise<void> {
    for (const credential of await this.ofDatabase(database.id)) {
      if (credential.status === 'creating') await this.rollBackCreate(credential);
      if (credential.status === 'resetting') await this.finishReset(database, credential);
      if (credential.status === 'deleting') await this.drop(database, credential);
    }
  }

  /**
   * Puts the stored (new) password on the engine. In quarantine the engine login stays
   * revoked: the restore gives every credential a new password anyway.
   */
  private async finishReset(database: DatabaseEntity, credential: CredentialRecord): Promise<void> {
    if (database.status === 'ready') {
      const { passwordEncrypted } = await this.credentials
        .createQueryBuilder('credential')
        .addSelect('credential.passwordEncrypted')
        .where('credential.id = :id', { id: credential.id })
        .getOneOrFail();
      const { provider, target } = await this.infras.connect(database.infraId);
      const ref = { database: database.name, user: credential.user };
      await provider.setPassword(target, ref, this.secrets.decrypt(passwordEncrypted));
    }
    await this.credentials.update(credential.id, { status: 'ready' });
  }

  private async rollBackCreate(credential: CredentialRecord): Promise<void> {
    const database = await this.databases.findOneByOrFail({ id: credential.databaseId });
    await this.drop(database, credential);
  }

  private async drop(database: DatabaseEntity, credential: CredentialRecord): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.dropUser(target, { database: database.name, user: credential.user });
    await this.credentials.query('DELETE FROM credential WHERE id = $1', [credential.id]);
  }

  /**
   * Without an owner a database could not be managed through its credentials, and on Redis,
   * where a database is a key prefix shared by its users, it would look free to a create on
   * another infra of the same server (see EngineProvider.databaseExists).
   */
  private async refuseLastOwner(
    credential: Pick<CredentialEntity, 'id' | 'databaseId' | 'privileges'>,
  ): Promise<void> {
    if (credential.privileges !== 'owner') return;
    const [{ others }] = await this.credentials.query<{ others: number }[]>(
      `SELECT count(*)::int AS others FROM credential
        WHERE database_id = $1 AND id <> $2 AND privileges = 'owner' AND status IN ('ready', 'resetting')`,
      [credential.databaseId, credential.id],
    );
    if (Number(others) === 0) {
      throw new ConflictError(
        'This is the last owner credential of its database: create another owner credential first, or delete the database.',
      );
    }
  }

  /**
   * The credentials of a database, in any state: those read with it under its lock
   * (DatabasesService.find, which every quarantine and delete step calls once it holds the
   * lock), else from the store.
   */
  private async usersOf(database: DatabaseEntity): Promise<{ user: string }[]> {
    return database.credentials ?? this.ofDatabase(database.id);
  }

  /** Every credential record of a database, in any state. */
  private async ofDatabase(databaseId: number): Promise<CredentialRecord[]> {
    const rows = await this.credentials.query<CredentialRecord[]>(
      'SELECT id, "user", status FROM credential WHERE database_id = $1 ORDER BY id',
      [databaseId],
    );
    return rows.map((row) => ({ ...row, id: Number(row.id), databaseId }));
  }

  /** Runs a credential operation as a task, holding the database's lock, on the database as it is then. */
  private onDatabase<T>(
    type: TaskType,
    database: DatabaseEntity,
    viewer: AuthenticatedUser,
    work: (current: DatabaseEntity) => Promise<T>,
  ): Promise<T> {
    const subject = {
      type,
      userId: viewer.id,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
    };
    return this.runner.run(
      subject,
      databaseLockKey(database.environmentId, database.name),
      async () => {
        const current = await this.databases.findOneBy({ id: database.id });
        if (!current || !this.policy.canSeeDatabase(viewer, current))
          throw new NotFoundError('database', database.id);
        return work(current);
      },
    );
  }

  /** Credentials of databases the viewer may see. */
  private visible(viewer: AuthenticatedUser): SelectQueryBuilder<CredentialEntity> {
    // A credential still being made or dropped (or left so by a crash) is not one yet; one
    // being reset is, with its new password.
    const query = this.credentials
      .createQueryBuilder('credential')
      .innerJoin('credential.database', 'database')
      .where("credential.status IN ('ready', 'resetting')");
    return this.policy.scopeDatabases(viewer, query);
  }
}
