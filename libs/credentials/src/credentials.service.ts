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
  CredentialPrivileges,
  CredentialStatus,
  DatabaseStatus,
  TaskType,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { CREDENTIAL_RECOVERY, CredentialRecoveryStep } from './credential-states';
import {
  CredentialDatabase,
  CredentialRecord,
  CredentialRepository,
  SealedCredential,
} from './credential.repository';
import { checkUserName } from './user-names';

/** A credential together with its plaintext password (detail, create and reset only). */
export interface RevealedCredential {
  credential: CredentialRecord;
  password: string;
}

/**
 * The database credential work runs on. `credentials`, when set, were read with it under
 * its lock (DatabaseRepository.find), and spare a read.
 */
export interface CredentialsParent extends CredentialDatabase {
  credentials?: { user: string }[];
}

export interface CredentialInput {
  user: string;
  database: number;
  privileges?: CredentialPrivileges;
}

/** Why a database takes no credential work, for a 409. */
function notUsable(status: DatabaseStatus): string {
  if (status === 'lost') return 'The database is lost (missing on its engine server)';
  if (status === 'moving') return 'The database is moving to another engine server';
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
    private readonly credentials: CredentialRepository,
    private readonly secrets: SecretBox,
    private readonly infras: InfraAccess,
    private readonly policy: AccessPolicy,
    private readonly runner: OperationRunner,
  ) {}

  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: { database?: number } = {},
  ): Promise<Page<CredentialRecord>> {
    const { skip, take } = skipTake(page);
    return this.credentials.pageVisible(viewer, filter.database, skip, take);
  }

  /** The credential and its password, if the viewer may see its database. */
  async reveal(id: number, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const found = await this.credentials.findVisibleSealed(id, viewer);
    if (!found) throw new NotFoundError('credential', id);
    const { passwordEncrypted, ...credential } = found;
    return { credential, password: this.secrets.decrypt(passwordEncrypted) };
  }

  async create(input: CredentialInput, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const database = await this.credentials.findDatabase(input.database);
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
   * `markReady: false`: the caller marks the record ready itself (`markReady`, with the
   * database it was made for).
   */
  async createFor(
    database: CredentialsParent,
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
      this.credentials.isUserTaken(database.infraId, user),
      provider.userExists(target, user),
    ]);
    if (inStore.status === 'fulfilled' && inStore.value) throw taken();
    if (inStore.status === 'rejected') throw inStore.reason;
    if (onEngine.status === 'rejected') throw onEngine.reason;
    if (onEngine.value) throw taken();
    const password = generatePassword();
    const saved = await this.credentials.insertCreating({
      user,
      databaseId: database.id,
      infraId: database.infraId,
      privileges,
      passwordEncrypted: this.secrets.encrypt(password),
    });
    if (!saved) throw taken();
    const ref = { database: database.name, user };
    try {
      await provider.createUser(target, {
        ...ref,
        password,
        privileges,
        ...(await this.limitsOf(database)),
        // A database over its size limit gets its new users with writes blocked too.
        writesBlocked: database.overSizeLimit,
      });
      const step =
        options.markReady === false ? 'database-owner-created' : 'credential-user-created';
      testFault(step, database.name);
      if (options.markReady !== false) await this.markReady(saved);
    } catch (error) {
      await this.drop(database, saved).catch(() => undefined);
      throw error;
    }
    return { credential: saved, password };
  }

  /** A credential made with `markReady: false` is ready: its user exists on the engine. */
  async markReady(credential: CredentialRecord): Promise<void> {
    await this.credentials.transition(credential.id, 'creating', 'ready');
    credential.status = 'ready';
  }

  async resetPassword(id: number, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const { credential } = await this.reveal(id, viewer);
    const database = await this.databaseOf(credential);
    return this.onDatabase('reset_password', database, viewer, async (current) => {
      if (current.status !== 'ready')
        throw new ConflictError(`${notUsable(current.status)}: passwords cannot be reset.`);
      // `resetting`: a reset an engine failure interrupted may be retried.
      const fresh = await this.credentials.findById(id);
      if (!fresh || (fresh.status !== 'ready' && fresh.status !== 'resetting'))
        throw new NotFoundError('credential', id);
      const { provider, target } = await this.infras.connect(current.infraId);
      // A 503 that changes nothing while the engine is down.
      await provider.ping(target);
      // The store first: if the engine or this process fails from here, the stored password
      // is the one the reconciler puts on the engine, so the two never disagree for long.
      const password = generatePassword();
      await this.credentials.transition(id, fresh.status, 'resetting', {
        passwordEncrypted: this.secrets.encrypt(password),
      });
      testFault('password-stored', current.name);
      const ref = { database: current.name, user: fresh.user };
      await provider.setPassword(target, ref, password, await this.limitsOf(current));
      await this.credentials.transition(id, 'resetting', 'ready');
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
    const database = await this.databaseOf(credential);
    await this.onDatabase('delete_credential', database, viewer, async (current) => {
      const fresh = await this.credentials.findById(id);
      if (!fresh) throw new NotFoundError('credential', id);
      if (options.lastOwner === 'refuse') await this.refuseLastOwner(fresh);
      // A 503 that changes nothing while the engine is down; past this point, the reconciler finishes.
      const { provider, target } = await this.infras.connect(current.infraId);
      await provider.ping(target);
      if (fresh.status !== 'deleting')
        await this.credentials.transition(id, fresh.status, 'deleting');
      testFault('credential-marked-deleting', current.name);
      await this.drop(current, fresh);
    });
  }

  /** Quarantine: every credential gets an unknown password, no login and no open session. */
  async revokeAll(database: CredentialsParent): Promise<void> {
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
  async restoreAll(database: CredentialsParent, newPasswords: boolean): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    const limits = await this.limitsOf(database);
    for (const credential of await this.credentials.sealedOfDatabase(database.id)) {
      const password = newPasswords
        ? generatePassword()
        : this.secrets.decrypt(credential.passwordEncrypted);
      await provider.restoreAccess(target, {
        database: database.name,
        user: credential.user,
        password,
        privileges: credential.privileges,
        ...limits,
        writesBlocked: database.overSizeLimit,
      });
      if (newPasswords)
        await this.credentials.setSealedPassword(credential.id, this.secrets.encrypt(password));
      testFault('access-restored', database.name);
    }
  }

  /**
   * A move's check before it starts: every credential is `ready` (work in flight is the
   * reconciler's first), and no login of theirs exists on the target infra, in the store or
   * on its engine (a login dbaas did not make is never taken over). 409 otherwise.
   */
  async assertMovable(database: CredentialsParent, targetInfraId: number): Promise<void> {
    const credentials = await this.credentials.ofDatabase(database.id);
    const busy = credentials.find((credential) => credential.status !== 'ready');
    if (busy) {
      throw new ConflictError(
        `The credential ${busy.user} is ${busy.status}: the database moves once its credentials are ready.`,
      );
    }
    const { provider, target } = await this.infras.connect(targetInfraId);
    for (const credential of credentials) {
      const [inStore, onEngine] = await Promise.all([
        this.credentials.isUserTaken(targetInfraId, credential.user),
        provider.userExists(target, credential.user),
      ]);
      if (inStore || onEngine) {
        throw new ConflictError(
          `The user ${credential.user} already exists on the engine server of the new plan.`,
        );
      }
    }
  }

  /** A moving database's credentials claim their names on `infraId` (see CredentialRepository.claimOnInfra). */
  async claimOnInfra(databaseId: number, infraId: number): Promise<void> {
    await this.credentials.claimOnInfra(databaseId, infraId);
  }

  /**
   * A move: every credential of the database made again on `infraId` with its current
   * (stored) password and privileges, and the limits of the plan there. createUser
   * converges, so a retry after a failure does no harm. The caller holds the lock.
   */
  async recreateAll(
    database: CredentialsParent,
    infraId: number,
    limits: { maxConnections: number },
  ): Promise<void> {
    const { provider, target } = await this.infras.connect(infraId);
    for (const credential of await this.credentials.sealedOfDatabase(database.id)) {
      await provider.createUser(target, {
        database: database.name,
        user: credential.user,
        password: this.secrets.decrypt(credential.passwordEncrypted),
        privileges: credential.privileges,
        maxConnections: limits.maxConnections,
      });
      testFault('move-user-created', database.name);
    }
  }

  /**
   * A database goes: every credential of it becomes `deleting` (until the rows go, they
   * show that their logins are going). The caller holds the database's lock.
   */
  async markAllDeleting(databaseId: number): Promise<void> {
    await this.credentials.markAllDeleting(databaseId);
  }

  /**
   * Drops every user of the database on the engine (a user already gone is no error); the
   * records go with the database row (`forgetAll`, DatabasesService.destroy).
   */
  async dropUsers(database: CredentialsParent, keep: readonly string[] = []): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.usersOf(database)) {
      if (keep.includes(credential.user)) continue;
      await provider.dropUser(target, { database: database.name, user: credential.user });
    }
  }

  /** The users on `infraId` that credentials of other databases hold. */
  usersOfOtherDatabases(infraId: number, databaseId: number): Promise<string[]> {
    return this.credentials.usersOfOtherDatabases(infraId, databaseId);
  }

  /** The records of a database's credentials go, once their users are dropped. */
  async forgetAll(databaseId: number): Promise<void> {
    await this.credentials.deleteAllOfDatabase(databaseId);
  }

  /** The states of a database's credentials that mark work in flight (not `ready`). */
  async unfinishedStates(databaseId: number): Promise<CredentialStatus[]> {
    return (await this.credentials.ofDatabase(databaseId))
      .map((credential) => credential.status)
      .filter((status) => status !== 'ready');
  }

  /** The `ready` credentials of these databases (drift repair compares them with the engine). */
  readyOfDatabases(databaseIds: number[]): Promise<CredentialRecord[]> {
    return this.credentials.readyOfDatabases(databaseIds);
  }

  /** A database's credentials (in `status`, if given) with their sealed passwords. */
  sealedOfDatabase(databaseId: number, status?: CredentialStatus): Promise<SealedCredential[]> {
    return this.credentials.sealedOfDatabase(databaseId, status);
  }

  /** The databases with credential work in flight (the reconciler converges them). */
  databasesWithUnfinishedWork(): Promise<number[]> {
    return this.credentials.databasesWithUnfinishedWork();
  }

  /**
   * Reconciler: finishes or undoes credential work a dead process or a failed engine left
   * behind, by the recovery step of each credential's state (CREDENTIAL_RECOVERY).
   */
  async reconcile(database: CredentialsParent): Promise<void> {
    const steps: Record<CredentialRecoveryStep, (credential: CredentialRecord) => Promise<void>> = {
      'roll back the create': (credential) => this.drop(database, credential),
      'finish the reset': (credential) => this.finishReset(database, credential),
      'finish the drop': (credential) => this.drop(database, credential),
    };
    for (const credential of await this.credentials.ofDatabase(database.id)) {
      const step = CREDENTIAL_RECOVERY[credential.status];
      if (step) await steps[step](credential);
    }
  }

  /**
   * Puts the stored (new) password on the engine. In quarantine the engine login stays
   * revoked: the restore gives every credential a new password anyway.
   */
  private async finishReset(
    database: CredentialsParent,
    credential: CredentialRecord,
  ): Promise<void> {
    if (database.status === 'ready') {
      const sealed = await this.credentials.sealedPassword(credential.id);
      const { provider, target } = await this.infras.connect(database.infraId);
      const ref = { database: database.name, user: credential.user };
      const limits = await this.limitsOf(database);
      await provider.setPassword(target, ref, this.secrets.decrypt(sealed), limits);
    }
    await this.credentials.transition(credential.id, 'resetting', 'ready');
  }

  /**
   * The plan's limits a login of the database gets (plan `max_connections`, put on each
   * login where the engine counts per login: MySQL): at create, password reset, restore and
   * drift repair. From the database when it was read with them, else from the store.
   */
  async limitsOf(database: CredentialsParent): Promise<{ maxConnections: number }> {
    return {
      maxConnections:
        database.maxConnections ?? (await this.credentials.maxConnectionsOf(database.id)),
    };
  }

  private async drop(database: CredentialsParent, credential: { id: number; user: string }) {
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.dropUser(target, { database: database.name, user: credential.user });
    await this.credentials.delete(credential.id);
  }

  /**
   * Without an owner a database could not be managed through its credentials, and on Redis,
   * where a database is a key prefix shared by its users, it would look free to a create on
   * another infra of the same server (see EngineProvider.databaseExists).
   */
  private async refuseLastOwner(
    credential: Pick<CredentialRecord, 'id' | 'databaseId' | 'privileges'>,
  ): Promise<void> {
    if (credential.privileges !== 'owner') return;
    if ((await this.credentials.countOtherOwners(credential.databaseId, credential.id)) === 0) {
      throw new ConflictError(
        'This is the last owner credential of its database: create another owner credential first, or delete the database.',
      );
    }
  }

  private async databaseOf(credential: CredentialRecord): Promise<CredentialDatabase> {
    const database = await this.credentials.findDatabase(credential.databaseId);
    if (!database) throw new NotFoundError('credential', credential.id);
    return database;
  }

  /**
   * The credentials of a database, in any state: those read with it under its lock
   * (DatabaseRepository.find, which every quarantine and delete step calls once it holds
   * the lock), else from the store.
   */
  private async usersOf(database: CredentialsParent): Promise<{ user: string }[]> {
    return database.credentials ?? this.credentials.ofDatabase(database.id);
  }

  /** Runs a credential operation as a task, holding the database's lock, on the database as it is then. */
  private onDatabase<T>(
    type: TaskType,
    database: CredentialDatabase,
    viewer: AuthenticatedUser,
    work: (current: CredentialDatabase) => Promise<T>,
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
        const current = await this.credentials.findDatabase(database.id);
        if (!current || !this.policy.canSeeDatabase(viewer, current))
          throw new NotFoundError('database', database.id);
        return work(current);
      },
    );
  }
}
