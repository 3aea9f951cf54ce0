import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { assertTransition, ConflictError, statesLeadingTo } from '@dbaas/core';
import {
  CredentialEntity,
  CredentialPrivileges,
  CredentialStatus,
  DatabaseStatus,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { CREDENTIAL_TRANSITIONS } from './credential-states';

/** A credential as stored, without its sealed password. */
export interface CredentialRecord {
  id: number;
  user: string;
  databaseId: number;
  infraId: number;
  privileges: CredentialPrivileges;
  status: CredentialStatus;
  createdAt: Date;
}

/** A credential with its sealed password (SecretBox), for the few paths that need it. */
export interface SealedCredential extends CredentialRecord {
  passwordEncrypted: string;
}

/** The database a credential belongs to, as the credential work reads it (read only). */
export interface CredentialDatabase {
  id: number;
  name: string;
  status: DatabaseStatus;
  infraId: number;
  environmentId: number;
  teamId: number;
  /**
   * Its plan's connection limit (0 = none), put on each login where the engine counts per
   * login; read from the store when absent (CredentialsService.limitsOf).
   */
  maxConnections?: number;
  /** Over its plan's size limit: every user of it is made with writes blocked. */
  overSizeLimit: boolean;
}

/** A new credential row: `creating`, its password sealed. */
export type NewCredential = Omit<SealedCredential, 'id' | 'createdAt' | 'status'>;

/** `ready` and `resetting` credentials are credentials; the others are work in flight. */
const LIVE = "('ready', 'resetting')";

const RECORD_COLUMNS = `id, "user", database_id, infra_id, privileges, status, created_at`;

function toRecord(row: Record<string, unknown>): CredentialRecord {
  return {
    id: Number(row.id),
    user: row.user as string,
    databaseId: Number(row.database_id),
    infraId: Number(row.infra_id),
    privileges: row.privileges as CredentialPrivileges,
    status: row.status as CredentialStatus,
    createdAt: new Date(row.created_at as string),
  };
}

/**
 * The `credential` table, owned by the credentials lib. Every status change goes through
 * `transition`, which refuses a move CREDENTIAL_TRANSITIONS does not allow.
 */
@Injectable()
export class CredentialRepository {
  constructor(
    @InjectRepository(CredentialEntity) private readonly credentials: Repository<CredentialEntity>,
    private readonly policy: AccessPolicy,
  ) {}

  /** One page of the live credentials of databases the viewer may see. */
  async pageVisible(
    viewer: AuthenticatedUser,
    database: number | undefined,
    skip: number,
    take: number,
  ): Promise<{ items: CredentialRecord[]; count: number }> {
    const query = this.visible(viewer).orderBy('credential.id', 'ASC');
    if (database !== undefined) query.andWhere('credential.databaseId = :db', { db: database });
    const [items, count] = await query.skip(skip).take(take).getManyAndCount();
    return { items: items.map((c) => this.plain(c)), count };
  }

  /** A live credential with its sealed password, if the viewer may see its database. */
  async findVisibleSealed(id: number, viewer: AuthenticatedUser): Promise<SealedCredential | null> {
    const found = await this.visible(viewer)
      .addSelect('credential.passwordEncrypted')
      .andWhere('credential.id = :id', { id })
      .getOne();
    return found ? { ...this.plain(found), passwordEncrypted: found.passwordEncrypted } : null;
  }

  /** The credential in any state, or null. */
  async findById(id: number): Promise<CredentialRecord | null> {
    const [row] = await this.credentials.query<Record<string, unknown>[]>(
      `SELECT ${RECORD_COLUMNS} FROM credential WHERE id = $1`,
      [id],
    );
    return row ? toRecord(row) : null;
  }

  /** Its sealed password. */
  async sealedPassword(id: number): Promise<string> {
    const [row] = await this.credentials.query<{ password_encrypted: string }[]>(
      'SELECT password_encrypted FROM credential WHERE id = $1',
      [id],
    );
    if (!row) throw new ConflictError(`credential ${id} is gone.`);
    return row.password_encrypted;
  }

  /** Every credential of a database, in any state, oldest first. */
  async ofDatabase(databaseId: number): Promise<CredentialRecord[]> {
    const rows = await this.credentials.query<Record<string, unknown>[]>(
      `SELECT ${RECORD_COLUMNS} FROM credential WHERE database_id = $1 ORDER BY id`,
      [databaseId],
    );
    return rows.map(toRecord);
  }

  /** Every credential of a database with its sealed password, oldest first. */
  async sealedOfDatabase(
    databaseId: number,
    status?: CredentialStatus,
  ): Promise<SealedCredential[]> {
    const rows = await this.credentials.query<Record<string, unknown>[]>(
      `SELECT ${RECORD_COLUMNS}, password_encrypted FROM credential
        WHERE database_id = $1 AND ($2::varchar IS NULL OR status = $2) ORDER BY id`,
      [databaseId, status ?? null],
    );
    return rows.map((row) => ({
      ...toRecord(row),
      passwordEncrypted: row.password_encrypted as string,
    }));
  }

  /** The `ready` credentials of these databases (drift repair compares them with the engine). */
  async readyOfDatabases(databaseIds: number[]): Promise<CredentialRecord[]> {
    if (!databaseIds.length) return [];
    const rows = await this.credentials.query<Record<string, unknown>[]>(
      `SELECT ${RECORD_COLUMNS} FROM credential WHERE database_id = ANY($1::int[]) AND status = 'ready'`,
      [databaseIds],
    );
    return rows.map(toRecord);
  }

  /** The ids of the databases with a credential in a state other than `ready` (work in flight). */
  async databasesWithUnfinishedWork(): Promise<number[]> {
    const rows = await this.credentials.query<{ database_id: number }[]>(
      `SELECT DISTINCT database_id FROM credential WHERE status <> 'ready' ORDER BY database_id`,
    );
    return rows.map((row) => Number(row.database_id));
  }

  /** Whether the user name is taken on the infra (user names are unique per engine server). */
  async isUserTaken(infraId: number, user: string): Promise<boolean> {
    const [{ taken }] = await this.credentials.query<{ taken: boolean }[]>(
      'SELECT EXISTS (SELECT 1 FROM credential WHERE infra_id = $1 AND "user" = $2) AS taken',
      [infraId, user],
    );
    return taken;
  }

  /** The users on `infraId` that credentials of other databases hold (a move must not drop them). */
  async usersOfOtherDatabases(infraId: number, databaseId: number): Promise<string[]> {
    const rows = await this.credentials.query<{ user: string }[]>(
      'SELECT "user" FROM credential WHERE infra_id = $1 AND database_id <> $2',
      [infraId, databaseId],
    );
    return rows.map((row) => row.user);
  }

  /** The other live owner credentials of the database. */
  async countOtherOwners(databaseId: number, exceptId: number): Promise<number> {
    const [{ others }] = await this.credentials.query<{ others: number }[]>(
      `SELECT count(*)::int AS others FROM credential
        WHERE database_id = $1 AND id <> $2 AND privileges = 'owner' AND status IN ${LIVE}`,
      [databaseId, exceptId],
    );
    return Number(others);
  }

  /**
   * A moving database's credentials claim their names on another infra (unique per infra):
   * the target of a move at its start, the database's own infra again when it ends. A name
   * taken there meanwhile is a 409 and nothing changes.
   */
  async claimOnInfra(databaseId: number, infraId: number): Promise<void> {
    await translateStoreErrors('credential', () =>
      this.credentials.query('UPDATE credential SET infra_id = $2 WHERE database_id = $1', [
        databaseId,
        infraId,
      ]),
    );
  }

  /**
   * Writes a new credential `creating`; the insert itself claims the name (unique per
   * infra): null when it is taken.
   */
  async insertCreating(credential: NewCredential): Promise<CredentialRecord | null> {
    const [inserted] = await this.credentials.query<{ id: number; created_at: Date | string }[]>(
      `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
       VALUES ($1, $2, $3, $4, 'creating', $5)
       ON CONFLICT (infra_id, "user") DO NOTHING
       RETURNING id, created_at`,
      [
        credential.user,
        credential.databaseId,
        credential.infraId,
        credential.privileges,
        credential.passwordEncrypted,
      ],
    );
    if (!inserted) return null;
    return {
      id: Number(inserted.id),
      user: credential.user,
      databaseId: credential.databaseId,
      infraId: credential.infraId,
      privileges: credential.privileges,
      status: 'creating',
      createdAt: new Date(inserted.created_at),
    };
  }

  /**
   * Moves a credential from `from` to `to` (CREDENTIAL_TRANSITIONS), with a new sealed
   * password when given. Refused (409) when the table does not allow the move, or when the
   * row is no longer `from`.
   */
  async transition(
    id: number,
    from: CredentialStatus,
    to: CredentialStatus,
    extra: { passwordEncrypted?: string } = {},
  ): Promise<void> {
    assertTransition(CREDENTIAL_TRANSITIONS, `credential ${id}`, from, to);
    // A SELECT around the UPDATE: its rows are what the driver returns (an UPDATE's are not).
    const [{ moved }] = await this.credentials.query<{ moved: number }[]>(
      `WITH moved AS (
         UPDATE credential SET status = $3, password_encrypted = coalesce($4, password_encrypted)
          WHERE id = $1 AND status = $2 RETURNING id
       ) SELECT count(*)::int AS moved FROM moved`,
      [id, from, to, extra.passwordEncrypted ?? null],
    );
    if (moved === 0) throw new ConflictError(`credential ${id} is no longer ${from}.`);
  }

  /** Every credential of a database becomes `deleting` (its database goes). */
  async markAllDeleting(databaseId: number): Promise<void> {
    await this.credentials.query(
      `UPDATE credential SET status = 'deleting' WHERE database_id = $1 AND status = ANY($2::varchar[])`,
      [databaseId, statesLeadingTo(CREDENTIAL_TRANSITIONS, 'deleting')],
    );
  }

  /** A stored password changes (a restore gives every credential a new one); the state stays. */
  async setSealedPassword(id: number, passwordEncrypted: string): Promise<void> {
    await this.credentials.query('UPDATE credential SET password_encrypted = $2 WHERE id = $1', [
      id,
      passwordEncrypted,
    ]);
  }

  async delete(id: number): Promise<void> {
    await this.credentials.query('DELETE FROM credential WHERE id = $1', [id]);
  }

  /** Every credential row of a database (its users are dropped; the database row goes next). */
  async deleteAllOfDatabase(databaseId: number): Promise<void> {
    await this.credentials.query('DELETE FROM credential WHERE database_id = $1', [databaseId]);
  }

  /** The database of a credential operation (read only: the databases lib owns the table). */
  async findDatabase(id: number): Promise<CredentialDatabase | null> {
    const [row] = await this.credentials.query<Record<string, unknown>[]>(
      `SELECT database.id, database.name, database.status, database.infra_id, database.environment_id,
              database.team_id, database.over_size_limit, plan.max_connections
         FROM database JOIN plan ON plan.id = database.plan_id WHERE database.id = $1`,
      [id],
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      name: row.name as string,
      status: row.status as DatabaseStatus,
      infraId: Number(row.infra_id),
      environmentId: Number(row.environment_id),
      teamId: Number(row.team_id),
      maxConnections: Number(row.max_connections ?? 0),
      overSizeLimit: row.over_size_limit === true,
    };
  }

  /** The connection limit of the database's plan (0 = none, also for an unknown database). */
  async maxConnectionsOf(databaseId: number): Promise<number> {
    const [row] = await this.credentials.query<{ max_connections: number }[]>(
      `SELECT plan.max_connections FROM database JOIN plan ON plan.id = database.plan_id
        WHERE database.id = $1`,
      [databaseId],
    );
    return Number(row?.max_connections ?? 0);
  }

  /** Live credentials of databases the viewer may see. */
  private visible(viewer: AuthenticatedUser): SelectQueryBuilder<CredentialEntity> {
    // A credential still being made or dropped (or left so by a crash) is not one yet; one
    // being reset is, with its new password.
    const query = this.credentials
      .createQueryBuilder('credential')
      .innerJoin('credential.database', 'database')
      .where(`credential.status IN ${LIVE}`);
    return this.policy.scopeDatabases(viewer, query);
  }

  private plain(c: CredentialEntity): CredentialRecord {
    return {
      id: c.id,
      user: c.user,
      databaseId: c.databaseId,
      infraId: c.infraId,
      privileges: c.privileges,
      status: c.status,
      createdAt: c.createdAt,
    };
  }
}
