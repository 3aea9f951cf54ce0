import { EngineCommandError, translateDriverError } from './common/engine-errors';
import { parseAddress } from './common/address';
import { assertIdentifier, IDENTIFIER_PATTERN } from './common/identifiers';
import {
  ConnectionDetails,
  EngineProvider,
  InfraTarget,
  Login,
  PRIVILEGES,
  Privileges,
  UserSpec,
} from './engine-provider';

/** An admin connection borrowed for one piece of work, given back with the work's failure (if any). */
export interface AdminSession<Admin> {
  admin: Admin;
  release(failure: unknown): void;
}

/**
 * What every engine does the same way: the admin connection (acquire, run, translate driver
 * errors with every secret removed, give back), the checks on names before they reach any
 * statement, the guard on privileges and on accounts dbaas must never manage, and what is
 * derived from the addresses alone (endpoint, connection details). A provider adds its
 * engine's statements, its facts (ports, names, limits) and how it connects.
 *
 * `Admin` is what the work receives: a query function, a client, a connection.
 */
export abstract class BaseEngineProvider<Admin> extends EngineProvider {
  /** The longest database name the engine (and the provider's derived names) accepts. */
  protected abstract readonly databaseNameMaxLength: number;
  /** Logins no credential may ever be on this engine, whatever the infra (besides its admin). */
  protected readonly protectedUsers: readonly string[] = [];
  /** The URL scheme of the endpoint. */
  protected abstract readonly urlScheme: string;
  /** Whether the endpoint names every address (multi-host URLs) or only the first. */
  protected abstract readonly multiHostUrl: boolean;
  /** The JDBC subprotocol, for engines with a JDBC driver. */
  protected readonly jdbcSubprotocol: string | null = null;

  /** Connects (or takes a pooled connection) as the infra's admin. */
  protected abstract acquireAdmin(infra: InfraTarget): Promise<AdminSession<Admin>>;
  /** Whether a driver error means the engine cannot be reached (503), not a refused command. */
  protected abstract isUnavailable(error: unknown): boolean;

  /** Size limits are enforced unless a provider says otherwise. */
  readonly enforcesSizeLimit: boolean = true;

  /** Converges exactly as createUser does: enabled, with this password and these privileges. */
  async restoreAccess(infra: InfraTarget, spec: UserSpec): Promise<void> {
    await this.createUser(infra, spec);
  }

  endpoint(addresses: readonly string[], database: string): string {
    const db = this.databaseName(database);
    return `${this.urlScheme}://<user>:<password>@${this.urlAddresses(addresses).join(',')}/${this.urlPath(db)}`;
  }

  connectionDetails(
    addresses: readonly string[],
    database: string,
    login: Login,
  ): ConnectionDetails {
    const uri = this.endpoint(addresses, database)
      .replace('<user>', encodeURIComponent(login.username))
      .replace('<password>', encodeURIComponent(login.password));
    const hosts = this.urlAddresses(addresses);
    const parsed = hosts.map((address) => parseAddress(address, this.defaultPort));
    const { host, port } = parsed[0] ?? { host: '', port: 0 };
    const details: ConnectionDetails = {
      uri,
      host,
      port,
      hosts,
      addresses: parsed,
      extras: this.connectionExtras(database),
    };
    if (this.jdbcSubprotocol) {
      const bracketed = host.includes(':') ? `[${host}]` : host;
      details.jdbcUrl =
        `jdbc:${this.jdbcSubprotocol}://${bracketed}:${port}/${database}` +
        `?user=${encodeURIComponent(login.username)}&password=${encodeURIComponent(login.password)}`;
    }
    return details;
  }

  // --- for the providers ------------------------------------------------------------------

  /** The path of the endpoint URL: the database, unless the engine says otherwise. */
  protected urlPath(database: string): string {
    return database;
  }

  /** Fields of this engine only in the connection details (see ConnectionDetails.extras). */
  protected connectionExtras(_database: string): Record<string, string> {
    return {};
  }

  private urlAddresses(addresses: readonly string[]): string[] {
    return this.multiHostUrl ? [...addresses] : addresses.slice(0, 1);
  }

  /** The name, checked by the dbaas rule and the engine's limit (a plain Error otherwise). */
  protected databaseName(name: string): string {
    return assertIdentifier(this.type, 'database', name, this.databaseNameMaxLength);
  }

  protected userName(name: string): string {
    return assertIdentifier(this.type, 'user', name, this.userNameMaxLength);
  }

  /** Whether a name found on the engine follows the dbaas rule (others are not dbaas's). */
  protected isManageableName(name: string): boolean {
    return IDENTIFIER_PATTERN.test(name);
  }

  /** The privileges, refused (a plain Error: a programming error) when unknown. */
  protected checkPrivileges(privileges: Privileges): Privileges {
    if (!PRIVILEGES.includes(privileges)) {
      throw new Error(`${this.type}: unknown privileges ${String(privileges)}`);
    }
    return privileges;
  }

  /** Refuses the infra's admin and the engine's protected accounts: a credential must never take them over. */
  protected assertNotProtected(user: string, infra: InfraTarget): void {
    if (user === infra.adminUser) {
      throw new EngineCommandError(
        this.type,
        `user ${user} is the infra admin; dbaas does not manage it`,
      );
    }
    if (this.protectedUsers.includes(user)) {
      throw new EngineCommandError(this.type, `user ${user} is reserved; dbaas does not manage it`);
    }
  }

  /**
   * Runs `work` as the infra's admin. Any error comes out translated: EngineUnavailableError
   * for an unreachable engine, EngineCommandError for a refused command, with the admin
   * password and `secrets` (passwords the work sends) removed from the message.
   */
  protected async withAdmin<T>(
    infra: InfraTarget,
    secrets: readonly string[],
    work: (admin: Admin) => Promise<T>,
  ): Promise<T> {
    const allSecrets = [infra.adminPassword, ...secrets];
    let session: AdminSession<Admin>;
    try {
      session = await this.acquireAdmin(infra);
    } catch (error) {
      throw this.translate(infra, error, allSecrets);
    }
    let failure: unknown;
    try {
      return await work(session.admin);
    } catch (error) {
      failure = error;
      throw this.translate(infra, error, allSecrets);
    } finally {
      session.release(failure);
    }
  }

  /** A driver error as the contract says it is thrown (see withAdmin). */
  protected translate(infra: InfraTarget, error: unknown, secrets: readonly string[]): Error {
    return translateDriverError(this.type, infra.addresses, error, secrets, (e) =>
      this.isUnavailable(e),
    );
  }
}
