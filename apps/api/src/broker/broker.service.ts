import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, nameProblem, normalizeName, NotFoundError } from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabasesService, DatabaseView } from '@dbaas/databases';
import { withOrigin } from '@dbaas/operations';
import {
  BrokerBindingEntity,
  BrokerInstanceEntity,
  BrokerOperation,
  CREDENTIAL_PRIVILEGES,
  CredentialPrivileges,
  DatabaseEntity,
} from '@dbaas/persistence';
import { QuarantineService } from '@dbaas/quarantine';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { createHash, randomBytes } from 'node:crypto';
import { QueryFailedError, Repository } from 'typeorm';
import { bindingCredentials } from './binding-credentials';
import { BrokerCatalog, BrokerOffer } from './broker-catalog.service';
import {
  asyncRequired,
  badRequest,
  BrokerError,
  concurrencyError,
  conflict,
  gone,
  notFound,
  toBrokerError,
} from './broker-errors';
import { CreateServiceBindingDto, CreateServiceInstanceDto } from './broker.dto';

/** A broker answer: status, JSON body and extra headers. */
export interface BrokerAnswer {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

/** What every broker request carries besides its body. */
export interface BrokerCall {
  viewer: AuthenticatedUser;
  /** X-Broker-API-Originating-Identity, decoded for the task history. */
  origin?: string;
  acceptsIncomplete: boolean;
}

/** Query hints of DELETE, GET and last_operation. */
export interface BrokerQuery {
  service_id?: string;
  plan_id?: string;
  operation?: string;
}

interface InstanceParameters {
  name?: string;
  team?: number;
  project?: number;
  description?: string;
}

/**
 * An operation still `in progress` this long after its last change was cut off (the process
 * died: every engine step is bounded to seconds); it is reported as failed.
 */
export const STALE_OPERATION_MS = 5 * 60_000;

const UNIQUE_VIOLATION = '23505';
const isUniqueViolation = (error: unknown) =>
  error instanceof QueryFailedError &&
  (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION;

/** JSON with sorted keys, to compare parameters regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** `osb_` and 32 hex digits: the instance id itself when it is a UUID, else its SHA-256. */
export function defaultDatabaseName(instanceId: string): string {
  const hex = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(instanceId)
    ? instanceId.replace(/-/g, '').toLowerCase()
    : createHash('sha256').update(instanceId).digest('hex').slice(0, 32);
  return `osb_${hex}`;
}

/** `b_` and 24 hex digits of the binding id's SHA-256: fits every engine's user-name limit. */
export function bindingUserName(bindingId: string): string {
  return `b_${createHash('sha256').update(bindingId).digest('hex').slice(0, 24)}`;
}

const newOperationId = (operation: BrokerOperation) =>
  `${operation}-${randomBytes(8).toString('hex')}`;

function checkId(what: string, id: string): void {
  if (!id || id.length > 255)
    throw badRequest(`The ${what} must be a non-empty string of at most 255 characters.`);
}

/** A JSON body validated against a request DTO; unknown fields are ignored (spec: extension fields). */
async function parseBody<T extends object>(type: new () => T, body: unknown): Promise<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('The body must be a JSON object.');
  const input = plainToInstance(type, body);
  const errors = await validate(input, { forbidUnknownValues: false });
  if (errors.length) {
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw badRequest(`The request is invalid: ${messages.join('; ')}.`);
  }
  return input;
}

function instanceParameters(raw: Record<string, unknown> | undefined): InstanceParameters {
  const params = raw ?? {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (key === 'name' || key === 'description') {
      if (typeof value !== 'string' || value.length > (key === 'name' ? 200 : 1000))
        problems.push(`${key} must be a string`);
    } else if (key === 'team' || key === 'project') {
      if (!Number.isInteger(value) || (value as number) < 1)
        problems.push(`${key} must be a positive integer id`);
    } else problems.push(`${key} is not a known parameter (name, team, project, description)`);
  }
  if (problems.length) throw badRequest(`Invalid parameters: ${problems.join('; ')}.`);
  return params as InstanceParameters;
}

function bindingPrivileges(raw: Record<string, unknown> | undefined): CredentialPrivileges {
  const params = raw ?? {};
  const unknown = Object.keys(params).filter((key) => key !== 'privileges');
  if (unknown.length)
    throw badRequest(`Invalid parameters: ${unknown.join(', ')} not known (privileges only).`);
  const privileges = params.privileges ?? 'owner';
  if (!CREDENTIAL_PRIVILEGES.includes(privileges as CredentialPrivileges)) {
    throw badRequest(
      `Invalid parameters: privileges must be one of ${CREDENTIAL_PRIVILEGES.join(', ')}.`,
    );
  }
  return privileges as CredentialPrivileges;
}

/** `Platform value` → `platform {decoded JSON}` for the task history (the raw header if it does not decode). */
export function describeOrigin(header: string | undefined): string | undefined {
  if (!header?.trim()) return undefined;
  const [platform, value] = header.trim().split(/\s+/, 2);
  if (value) {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
      if (decoded && typeof decoded === 'object') return `${platform} ${JSON.stringify(decoded)}`;
    } catch {
      // not base64 JSON: recorded as sent
    }
  }
  return header.trim();
}

/**
 * The Open Service Broker API over dbaas: an instance is a database, a binding is a
 * credential. The broker's own tables record what the platform sent and the state of the
 * last operation; the database and credential work goes through the same services as
 * /api, as the broker user, so team scoping, locks and the task history apply unchanged.
 */
@Injectable()
export class BrokerService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Broker');
  /** Asynchronous operations running in this process, by instance id. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    @InjectRepository(BrokerInstanceEntity)
    private readonly instances: Repository<BrokerInstanceEntity>,
    @InjectRepository(BrokerBindingEntity)
    private readonly bindings: Repository<BrokerBindingEntity>,
    @InjectRepository(DatabaseEntity) private readonly databaseRows: Repository<DatabaseEntity>,
    private readonly catalog: BrokerCatalog,
    private readonly databases: DatabasesService,
    private readonly quarantine: QuarantineService,
    private readonly credentials: CredentialsService,
    private readonly policy: AccessPolicy,
  ) {}

  /** Lets asynchronous operations finish before the app closes (each is bounded to seconds). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  // ---------------------------------------------------------------- instances

  async provision(instanceId: string, body: unknown, call: BrokerCall): Promise<BrokerAnswer> {
    checkId('instance id', instanceId);
    const input = await parseBody(CreateServiceInstanceDto, body);
    const offer = await this.catalog.resolve(input.service_id, input.plan_id);
    if (!offer)
      throw badRequest(
        'service_id and plan_id must name a plan of that service in GET /v2/catalog.',
      );
    if (input.maintenance_info !== undefined) {
      throw new BrokerError(
        422,
        'MaintenanceInfoConflict',
        'This plan announces no maintenance_info in the catalog.',
      );
    }
    const params = instanceParameters(input.parameters);
    const teamId = this.teamFor(params.team, call.viewer);
    const databaseName = normalizeName(params.name ?? defaultDatabaseName(instanceId));
    const problem = nameProblem(databaseName);
    if (problem) throw badRequest(`parameters.name: ${problem}`);

    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.instance(instanceId);
      if (existing) {
        const again = await this.provisionAgain(existing, input, call);
        if (again) return again;
        // A failed provisioning is retried with this request: claim the row back.
        const claimed = await this.claim(
          instanceId,
          "operation = 'provision' AND state = 'failed'",
          {
            ...this.provisionFields(input, offer, teamId, databaseName, call.viewer),
            databaseId: null,
          },
        );
        if (!claimed) continue;
        return this.runProvision(claimed, offer, params, call);
      }
      const row = this.instances.create({
        instanceId,
        ...this.provisionFields(input, offer, teamId, databaseName, call.viewer),
      });
      try {
        await this.instances.insert(row as never);
      } catch (error) {
        if (isUniqueViolation(error)) continue; // a concurrent PUT won: answer as a repeat
        throw error;
      }
      return this.runProvision(row, offer, params, call);
    }
    throw concurrencyError('Another operation for this service instance is in progress.');
  }

  async deprovision(
    instanceId: string,
    query: BrokerQuery,
    call: BrokerCall,
  ): Promise<BrokerAnswer> {
    checkId('instance id', instanceId);
    if (!query.service_id || !query.plan_id)
      throw badRequest('The query parameters service_id and plan_id are required.');
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.visibleInstance(instanceId, call.viewer);
      if (!row) throw gone('No such service instance.');
      if (row.serviceId !== query.service_id || row.planId !== query.plan_id) {
        throw badRequest('service_id and plan_id are not those of this service instance.');
      }
      if (row.operation === 'provision' && row.state === 'in progress') {
        throw concurrencyError('The service instance is still being provisioned.');
      }
      if (row.operation === 'deprovision' && row.state === 'in progress') {
        if (call.acceptsIncomplete) return { status: 202, body: { operation: row.operationId } };
        throw concurrencyError('The service instance is being deprovisioned.');
      }
      if (row.operation === 'deprovision' && row.state === 'succeeded')
        throw gone('The service instance was deprovisioned.');
      // provision failed (orphan mitigation), provision succeeded, or a failed deprovision retried.
      const claimed = await this.claim(
        instanceId,
        "NOT (state = 'in progress' OR (operation = 'deprovision' AND state = 'succeeded'))",
        {
          operation: 'deprovision',
          operationId: newOperationId('deprovision'),
          state: 'in progress',
          error: null,
        },
      );
      if (!claimed) continue;
      const work = () =>
        this.withOrigin(call.origin, () => this.removeDatabase(claimed, call.viewer));
      if (call.acceptsIncomplete && row.state === 'succeeded') {
        this.background(instanceId, work());
        return { status: 202, body: { operation: claimed.operationId } };
      }
      await work();
      return { status: 200, body: {} };
    }
    throw concurrencyError('Another operation for this service instance is in progress.');
  }

  async fetchInstance(instanceId: string, viewer: AuthenticatedUser): Promise<BrokerAnswer> {
    const row = await this.visibleInstance(instanceId, viewer);
    if (!row || (row.operation === 'provision' && row.state !== 'succeeded')) {
      throw notFound('No such service instance, or its provisioning is not finished.');
    }
    if (row.operation === 'deprovision' && row.state === 'succeeded')
      throw notFound('The service instance was deprovisioned.');
    if (row.operation === 'deprovision' && row.state === 'in progress') {
      throw concurrencyError('The service instance is being deprovisioned.');
    }
    return {
      status: 200,
      body: {
        service_id: row.serviceId,
        plan_id: row.planId,
        parameters: row.parameters,
        metadata: this.metadata(row),
      },
    };
  }

  async lastOperation(
    instanceId: string,
    query: BrokerQuery,
    viewer: AuthenticatedUser,
  ): Promise<BrokerAnswer> {
    for (const key of ['service_id', 'plan_id', 'operation'] as const) {
      if (query[key] !== undefined && query[key] === '')
        throw badRequest(`${key} must not be empty when given.`);
    }
    const row = await this.visibleInstance(instanceId, viewer);
    if (!row) throw notFound('No such service instance.');
    if (
      (query.service_id && query.service_id !== row.serviceId) ||
      (query.plan_id && query.plan_id !== row.planId)
    ) {
      throw badRequest('service_id and plan_id are not those of this service instance.');
    }
    const name = row.databaseName;
    if (row.operation === 'provision') {
      const description = {
        'in progress': `Creating the database ${name}.`,
        succeeded: `The database ${name} is ready.`,
        failed: `Provisioning failed: ${row.error ?? 'unknown error'}`,
      }[row.state];
      return this.operationAnswer(row.state, description);
    }
    if (row.state === 'succeeded') {
      // The dba removed the quarantined database for good (or it was purged): gone.
      if (row.databaseId === null || !(await this.databaseRows.existsBy({ id: row.databaseId }))) {
        throw gone('The service instance and its database are gone.');
      }
      return this.operationAnswer(
        'succeeded',
        `The database ${name} is in quarantine; a dba can restore it until it is purged.`,
      );
    }
    if (row.state === 'in progress')
      return this.operationAnswer('in progress', `Putting the database ${name} in quarantine.`);
    const usable =
      row.databaseId !== null &&
      (await this.databaseRows.existsBy({ id: row.databaseId, status: 'ready' }));
    return {
      status: 200,
      body: {
        state: 'failed',
        description: `Deprovisioning failed: ${row.error ?? 'unknown error'}`,
        instance_usable: usable,
      },
    };
  }

  // ---------------------------------------------------------------- bindings

  async bind(
    instanceId: string,
    bindingId: string,
    body: unknown,
    call: BrokerCall,
  ): Promise<BrokerAnswer> {
    checkId('instance id', instanceId);
    checkId('binding id', bindingId);
    const input = await parseBody(CreateServiceBindingDto, body);
    const instance = await this.visibleInstance(instanceId, call.viewer);
    if (!instance) throw badRequest('No such service instance.');
    if (input.service_id !== instance.serviceId || input.plan_id !== instance.planId) {
      throw badRequest('service_id and plan_id are not those of this service instance.');
    }
    if (instance.state === 'in progress')
      throw concurrencyError(`The service instance is being ${instance.operation}ed.`);
    if (instance.operation !== 'provision' && instance.state !== 'failed')
      throw badRequest('The service instance was deprovisioned.');
    if (instance.operation === 'provision' && instance.state !== 'succeeded')
      throw badRequest('The service instance was not provisioned.');
    const privileges = bindingPrivileges(input.parameters);
    const appGuid = input.bind_resource?.app_guid ?? input.app_guid ?? null;
    const fields = {
      instanceId,
      serviceId: input.service_id,
      planId: input.plan_id,
      appGuid: typeof appGuid === 'string' ? appGuid.slice(0, 255) : null,
      bindResource: (input.bind_resource ?? {}) as Record<string, unknown>,
      context: input.context ?? {},
      parameters: input.parameters ?? {},
    };

    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.bindings.findOneBy({ bindingId });
      if (existing) {
        const same =
          existing.instanceId === instanceId &&
          existing.serviceId === fields.serviceId &&
          existing.planId === fields.planId &&
          existing.appGuid === fields.appGuid &&
          canonical(existing.parameters) === canonical(fields.parameters) &&
          canonical(existing.bindResource) === canonical(fields.bindResource);
        if (!same) throw conflict('A service binding with this id exists with other attributes.');
        if (existing.state === 'in progress') {
          if (Date.now() - existing.createdAt.getTime() < STALE_OPERATION_MS) {
            throw concurrencyError('This service binding is being created.');
          }
          await this.bindings.delete({ bindingId, state: 'in progress' });
          continue;
        }
        return {
          status: 200,
          body: await this.bindingBody(instance, existing, call.viewer, false),
        };
      }
      const row = this.bindings.create({
        bindingId,
        ...fields,
        credentialId: null,
        state: 'in progress',
      });
      try {
        await this.bindings.insert(row as never);
      } catch (error) {
        if (isUniqueViolation(error)) continue;
        throw error;
      }
      try {
        const { credential } = await this.withOrigin(call.origin, () =>
          this.credentials.create(
            { user: bindingUserName(bindingId), database: instance.databaseId!, privileges },
            call.viewer,
          ),
        );
        await this.bindings.update(bindingId, { credentialId: credential.id, state: 'succeeded' });
        row.credentialId = credential.id;
        row.state = 'succeeded';
      } catch (error) {
        // Nothing is left behind: the credential service already undid its own work.
        await this.bindings.delete({ bindingId }).catch(() => undefined);
        throw this.bindingError(error);
      }
      return { status: 201, body: await this.bindingBody(instance, row, call.viewer, false) };
    }
    throw concurrencyError('Another operation for this service binding is in progress.');
  }

  async fetchBinding(
    instanceId: string,
    bindingId: string,
    viewer: AuthenticatedUser,
  ): Promise<BrokerAnswer> {
    const instance = await this.visibleInstance(instanceId, viewer);
    const binding = instance ? await this.bindings.findOneBy({ bindingId, instanceId }) : null;
    if (!instance || !binding || binding.state !== 'succeeded') {
      throw notFound('No such service binding, or it is still being created.');
    }
    return { status: 200, body: await this.bindingBody(instance, binding, viewer, true) };
  }

  async unbind(
    instanceId: string,
    bindingId: string,
    query: BrokerQuery,
    call: BrokerCall,
  ): Promise<BrokerAnswer> {
    if (!query.service_id || !query.plan_id)
      throw badRequest('The query parameters service_id and plan_id are required.');
    const instance = await this.visibleInstance(instanceId, call.viewer);
    const binding = instance ? await this.bindings.findOneBy({ bindingId, instanceId }) : null;
    if (!instance || !binding) throw gone('No such service binding.');
    if (binding.serviceId !== query.service_id || binding.planId !== query.plan_id) {
      throw badRequest('service_id and plan_id are not those of this service binding.');
    }
    if (
      binding.state === 'in progress' &&
      Date.now() - binding.createdAt.getTime() < STALE_OPERATION_MS
    ) {
      throw concurrencyError('This service binding is being created.');
    }
    if (binding.credentialId !== null) {
      try {
        await this.withOrigin(call.origin, () =>
          this.credentials.remove(binding.credentialId!, call.viewer, { lastOwner: 'allow' }),
        );
      } catch (error) {
        // Already gone, or its database is in quarantine (its login is disabled there).
        if (!(error instanceof NotFoundError)) throw this.bindingError(error);
      }
    }
    await this.bindings.delete({ bindingId });
    return { status: 200, body: {} };
  }

  // ---------------------------------------------------------------- internals

  private provisionFields(
    input: CreateServiceInstanceDto,
    offer: BrokerOffer,
    teamId: number,
    databaseName: string,
    viewer: AuthenticatedUser,
  ): Partial<BrokerInstanceEntity> {
    return {
      serviceId: input.service_id,
      planId: input.plan_id,
      dbaasPlanId: offer.plan.id,
      environmentId: offer.environment.id,
      userId: viewer.id,
      teamId,
      context: input.context ?? {},
      organizationGuid: input.organization_guid,
      spaceGuid: input.space_guid,
      parameters: input.parameters ?? {},
      databaseName,
      operation: 'provision',
      operationId: newOperationId('provision'),
      state: 'in progress',
      error: null,
    };
  }

  /**
   * The answer to a PUT for an instance that exists, or null when it is a failed
   * provisioning that this request may retry.
   */
  private async provisionAgain(
    existing: BrokerInstanceEntity,
    input: CreateServiceInstanceDto,
    call: BrokerCall,
  ): Promise<BrokerAnswer | null> {
    if (!this.canSee(existing, call.viewer))
      throw conflict('A service instance with this id already exists.');
    if (existing.operation === 'provision' && existing.state === 'failed') return null;
    if (existing.operation === 'deprovision' && existing.state === 'succeeded') {
      throw conflict('This service instance id was deprovisioned; instance ids are not reused.');
    }
    if (existing.operation === 'deprovision' && existing.state === 'in progress') {
      throw concurrencyError('The service instance is being deprovisioned.');
    }
    const same =
      existing.serviceId === input.service_id &&
      existing.planId === input.plan_id &&
      existing.organizationGuid === input.organization_guid &&
      existing.spaceGuid === input.space_guid &&
      canonical(existing.parameters) === canonical(input.parameters ?? {});
    if (!same)
      throw conflict('A service instance with this id already exists with other attributes.');
    if (existing.state === 'in progress') {
      if (call.acceptsIncomplete) return { status: 202, body: { operation: existing.operationId } };
      throw asyncRequired(
        'This service instance is being provisioned asynchronously: repeat the request with accepts_incomplete=true.',
      );
    }
    return { status: 200, body: { metadata: this.metadata(existing) } };
  }

  private async runProvision(
    row: BrokerInstanceEntity,
    offer: BrokerOffer,
    params: InstanceParameters,
    call: BrokerCall,
  ): Promise<BrokerAnswer> {
    const work = () =>
      this.withOrigin(call.origin, () => this.createDatabase(row, offer, params, call));
    if (call.acceptsIncomplete) {
      this.background(row.instanceId, work());
      return { status: 202, body: { operation: row.operationId } };
    }
    const created = await work();
    return {
      status: 201,
      body: {
        metadata: this.metadata({
          ...row,
          databaseId: created.database.id,
          databaseName: created.database.name,
        }),
      },
    };
  }

  private async createDatabase(
    row: BrokerInstanceEntity,
    offer: BrokerOffer,
    params: InstanceParameters,
    call: BrokerCall,
  ): Promise<DatabaseView> {
    try {
      const created = await this.databases.create(
        {
          name: row.databaseName,
          plan: offer.plan.id,
          environment: offer.environment.id,
          project: params.project ?? null,
          team: row.teamId ?? undefined,
          description:
            params.description ??
            `Open Service Broker instance ${row.instanceId} (${this.contextSummary(row)})`.slice(
              0,
              1000,
            ),
        },
        call.viewer,
      );
      await this.instances.update(row.instanceId, {
        databaseId: created.database.id,
        databaseName: created.database.name,
        state: 'succeeded',
        error: null,
      });
      return created;
    } catch (error) {
      const answer = this.provisionError(error);
      if (!call.acceptsIncomplete && answer.status < 500) {
        // A refused request leaves nothing behind (spec: 4xx = resources unchanged).
        await this.instances
          .delete({ instanceId: row.instanceId, operationId: row.operationId })
          .catch(() => undefined);
      } else {
        await this.instances
          .update(
            { instanceId: row.instanceId, operationId: row.operationId },
            { state: 'failed', error: answer.description.slice(0, 500) },
          )
          .catch(() => undefined);
      }
      throw answer;
    }
  }

  /**
   * Deprovisioning: the database goes into quarantine (QuarantineService, as for a DELETE
   * on /api). Orphan mitigation too: after a failed provisioning, a database that was made
   * under the instance's name although its answer was lost is found and quarantined.
   */
  private async removeDatabase(
    row: BrokerInstanceEntity,
    viewer: AuthenticatedUser,
  ): Promise<void> {
    try {
      let databaseId = row.databaseId;
      if (databaseId === null) {
        const found = await this.databases.list({ page: 1, pageSize: 1 }, viewer, {
          name: row.databaseName,
          environment: row.environmentId,
        });
        databaseId = found.items[0]?.database.id ?? null;
      }
      if (databaseId !== null) {
        const database = await this.databases
          .findVisible(databaseId, viewer)
          .catch((error: unknown) => {
            if (error instanceof NotFoundError) return null; // already quarantined by someone else, or gone
            throw error;
          });
        // Only a live database is quarantined: a second DELETE by a dba would remove it for good.
        if (database && database.status !== 'quarantined')
          await this.quarantine.delete(database.id, viewer);
      }
      await this.instances.update(
        { instanceId: row.instanceId, operationId: row.operationId },
        { state: 'succeeded', databaseId, error: null },
      );
    } catch (error) {
      const answer = toBrokerError(error);
      const mapped = error instanceof ConflictError ? concurrencyError(answer.description) : answer;
      await this.instances
        .update(
          { instanceId: row.instanceId, operationId: row.operationId },
          { state: 'failed', error: mapped.description.slice(0, 500) },
        )
        .catch(() => undefined);
      throw mapped;
    }
  }

  private async bindingBody(
    instance: BrokerInstanceEntity,
    binding: BrokerBindingEntity,
    viewer: AuthenticatedUser,
    withParameters: boolean,
  ): Promise<object> {
    try {
      const { credential, password } = await this.credentials.reveal(binding.credentialId!, viewer);
      const view = await this.databaseView(instance, viewer);
      const engineType = view.database.engineType;
      const made = bindingCredentials(
        engineType,
        view.endpoint,
        view.database.name,
        credential.user,
        password,
      );
      return withParameters ? { ...made, parameters: binding.parameters } : made;
    } catch (error) {
      if (error instanceof NotFoundError)
        throw notFound('The database of this binding is not available (in quarantine or removed).');
      throw error;
    }
  }

  /** The database with its endpoint, without waiting for a used-size measurement. */
  private async databaseView(
    instance: BrokerInstanceEntity,
    viewer: AuthenticatedUser,
  ): Promise<DatabaseView> {
    const page = await this.databases.list({ page: 1, pageSize: 1 }, viewer, {
      name: instance.databaseName,
      environment: instance.environmentId,
    });
    const view = page.items.find((item) => item.database.id === instance.databaseId);
    if (!view) throw new NotFoundError('database', instance.databaseId ?? undefined);
    return view;
  }

  private provisionError(error: unknown): BrokerError {
    const answer = toBrokerError(error);
    // A name taken, a bad team or project: the request's data is invalid, not the instance id.
    if (answer.status === 409 || answer.status === 403 || answer.status === 404)
      return badRequest(answer.description);
    return answer;
  }

  private bindingError(error: unknown): BrokerError {
    const answer = toBrokerError(error);
    if (
      answer.status === 409 &&
      error instanceof ConflictError &&
      /quarantine/i.test(error.message)
    ) {
      return badRequest(answer.description);
    }
    return answer;
  }

  private operationAnswer(state: string, description: string): BrokerAnswer {
    return {
      status: 200,
      body: { state, description },
      headers: state === 'in progress' ? { 'Retry-After': '1' } : undefined,
    };
  }

  private metadata(row: Pick<BrokerInstanceEntity, 'databaseName' | 'databaseId'>): {
    labels: Record<string, string>;
  } {
    const labels: Record<string, string> = { 'dbaas-database': row.databaseName };
    if (row.databaseId !== null) labels['dbaas-database-id'] = String(row.databaseId);
    return { labels };
  }

  private contextSummary(row: BrokerInstanceEntity): string {
    const context = row.context ?? {};
    const parts = ['platform', 'organization_name', 'space_name', 'namespace', 'instance_name']
      .filter((key) => typeof context[key] === 'string')
      .map((key) => `${key}=${String(context[key])}`);
    if (!parts.length)
      parts.push(`organization_guid=${row.organizationGuid}`, `space_guid=${row.spaceGuid}`);
    return parts.join(', ');
  }

  /** The team of a new database: parameters.team (one of the caller's), or the caller's only team. */
  private teamFor(team: number | undefined, viewer: AuthenticatedUser): number {
    if (team !== undefined) {
      if (!this.policy.canSeeTeam(viewer, team))
        throw badRequest('parameters.team: you are not a member of this team.');
      return team;
    }
    if (viewer.teamIds.length === 1) return viewer.teamIds[0];
    throw badRequest(
      `parameters.team is required: the broker user belongs to ${viewer.teamIds.length} teams.`,
    );
  }

  private canSee(row: BrokerInstanceEntity, viewer: AuthenticatedUser): boolean {
    return (
      this.policy.isDba(viewer) ||
      (row.teamId !== null && this.policy.canSeeTeam(viewer, row.teamId))
    );
  }

  /** The row, with an operation cut off by a dead process reported as failed. */
  private async instance(instanceId: string): Promise<BrokerInstanceEntity | null> {
    const row = await this.instances.findOneBy({ instanceId });
    if (
      row?.state === 'in progress' &&
      !this.running.has(instanceId) &&
      Date.now() - row.updatedAt.getTime() > STALE_OPERATION_MS
    ) {
      const error = 'The operation was interrupted (the broker restarted); retry it.';
      await this.instances.update(
        { instanceId, operationId: row.operationId, state: 'in progress' },
        { state: 'failed', error },
      );
      return this.instances.findOneBy({ instanceId });
    }
    return row;
  }

  /** An instance the viewer may see; others' instances are answered as absent. */
  private async visibleInstance(
    instanceId: string,
    viewer: AuthenticatedUser,
  ): Promise<BrokerInstanceEntity | null> {
    if (!instanceId || instanceId.length > 255) return null;
    const row = await this.instance(instanceId);
    return row && this.canSee(row, viewer) ? row : null;
  }

  /** Moves the row to a new operation if `condition` holds (one winner among racing requests). */
  private async claim(
    instanceId: string,
    condition: string,
    changes: Partial<BrokerInstanceEntity>,
  ): Promise<BrokerInstanceEntity | null> {
    const result = await this.instances
      .createQueryBuilder()
      .update()
      .set(changes as never)
      .where('instance_id = :instanceId', { instanceId })
      .andWhere(condition)
      .execute();
    if (!result.affected) return null;
    return this.instances.findOneByOrFail({ instanceId });
  }

  private withOrigin<T>(origin: string | undefined, work: () => Promise<T>): Promise<T> {
    return origin ? withOrigin(origin, work) : work();
  }

  /** Runs an asynchronous operation; its outcome is read back through last_operation. */
  private background(instanceId: string, work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => {
        const answer = toBrokerError(error);
        if (answer.status >= 500)
          this.logger.warn(`Operation on instance ${instanceId} failed: ${answer.description}`);
      })
      .finally(() => {
        if (this.running.get(instanceId) === tracked) this.running.delete(instanceId);
      });
    this.running.set(instanceId, tracked);
  }
}
