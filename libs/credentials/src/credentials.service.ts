import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  generatePassword,
  NotFoundError,
  Page,
  PageRequest,
  SecretBox,
  skipTake,
  ValidationFailedError,
} from '@dbaas/core';
import { InfraAccess } from '@dbaas/engines';
import {
  CredentialEntity,
  CredentialPrivileges,
  DatabaseEntity,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { checkUserName } from './user-names';

/** A credential together with its plaintext password (detail, create and reset only). */
export interface RevealedCredential {
  credential: CredentialEntity;
  password: string;
}

export interface CredentialInput {
  user: string;
  database: number;
  privileges?: CredentialPrivileges;
}

@Injectable()
export class CredentialsService {
  constructor(
    @InjectRepository(CredentialEntity) private readonly credentials: Repository<CredentialEntity>,
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    private readonly secrets: SecretBox,
    private readonly infras: InfraAccess,
    private readonly policy: AccessPolicy,
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
    if (!database || !this.policy.canSeeDatabase(viewer, database)) {
      throw new ValidationFailedError({ database: [`no database with id ${input.database}`] });
    }
    return this.createFor(database, input.user, input.privileges ?? 'owner');
  }

  /**
   * Creates the user on the engine, then the record. If the record cannot be written the
   * user is dropped again, so nothing is left half-made.
   */
  async createFor(
    database: DatabaseEntity,
    rawUser: string,
    privileges: CredentialPrivileges,
  ): Promise<RevealedCredential> {
    if (database.status !== 'ready' && database.status !== 'creating') {
      throw new ConflictError('A quarantined database takes no new credentials.');
    }
    const { provider, target } = await this.infras.connect(database.infraId);
    const { name: user, problem } = checkUserName(
      rawUser,
      provider.userNameMaxLength,
      target.adminUser,
    );
    if (problem) throw new ValidationFailedError({ user: [problem] });
    if (await this.credentials.existsBy({ infraId: database.infraId, user })) {
      throw new ConflictError(`The user ${user} already exists on this engine server.`);
    }
    const password = generatePassword();
    const ref = { database: database.name, user };
    await provider.createUser(target, { ...ref, password, privileges });
    try {
      const saved = await translateStoreErrors('credential', () =>
        this.credentials.save(
          this.credentials.create({
            user,
            databaseId: database.id,
            infraId: database.infraId,
            privileges,
            passwordEncrypted: this.secrets.encrypt(password),
          }),
        ),
      );
      return { credential: await this.credentials.findOneByOrFail({ id: saved.id }), password };
    } catch (error) {
      await provider.dropUser(target, ref).catch(() => undefined);
      throw error;
    }
  }

  async resetPassword(id: number, viewer: AuthenticatedUser): Promise<RevealedCredential> {
    const { credential } = await this.reveal(id, viewer);
    const database = await this.databases.findOneByOrFail({ id: credential.databaseId });
    if (database.status !== 'ready') {
      throw new ConflictError('The database is in quarantine: passwords cannot be reset.');
    }
    const password = generatePassword();
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.setPassword(
      target,
      { database: database.name, user: credential.user },
      password,
    );
    await this.credentials.update(id, { passwordEncrypted: this.secrets.encrypt(password) });
    return { credential, password };
  }

  /** Drops the user on the engine, then the record. */
  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    const { credential } = await this.reveal(id, viewer);
    const database = await this.databases.findOneByOrFail({ id: credential.databaseId });
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.dropUser(target, { database: database.name, user: credential.user });
    await this.credentials.delete(id);
  }

  /** Quarantine: every credential loses access on the engine; passwords are kept for nobody. */
  async revokeAll(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.credentials.findBy({ databaseId: database.id })) {
      await provider.revokeAccess(target, { database: database.name, user: credential.user });
    }
  }

  /** Restore: access comes back with a new password for every credential. */
  async restoreAll(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.credentials.findBy({ databaseId: database.id })) {
      const password = generatePassword();
      await provider.restoreAccess(target, {
        database: database.name,
        user: credential.user,
        password,
        privileges: credential.privileges,
      });
      await this.credentials.update(credential.id, {
        passwordEncrypted: this.secrets.encrypt(password),
      });
    }
  }

  /** Drops every user of the database on the engine and deletes their records. */
  async dropAll(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    for (const credential of await this.credentials.findBy({ databaseId: database.id })) {
      await provider.dropUser(target, { database: database.name, user: credential.user });
      await this.credentials.delete(credential.id);
    }
  }

  /** Credentials of databases the viewer may see. */
  private visible(viewer: AuthenticatedUser): SelectQueryBuilder<CredentialEntity> {
    const query = this.credentials
      .createQueryBuilder('credential')
      .innerJoin('credential.database', 'database');
    return this.policy.scopeDatabases(viewer, query);
  }
}
