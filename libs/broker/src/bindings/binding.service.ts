import { AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, NotFoundError } from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabasesService, DatabaseView } from '@dbaas/databases';
import { EngineRegistry } from '@dbaas/engines';
import { CredentialPrivileges } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { asCaller, BrokerCall, BrokerQuery, checkId } from '../broker-call';
import {
  BrokerResourceConflictError,
  BrokerResourceGoneError,
  BrokerResourceNotFoundError,
  InvalidBrokerRequestError,
  OperationInProgressError,
} from '../broker-errors';
import { bindingUserName, canonicalJson } from '../broker-names';
import { BrokerInstance } from '../instances/broker-instance.repository';
import { InstanceLookup, STALE_OPERATION_MS } from '../instances/instance-lookup.service';
import { BindingAnswer, bindingCredentials } from './binding-credentials';
import { BrokerBinding, BrokerBindingRepository } from './broker-binding.repository';

/** The binding parameters a platform may pass (the catalog's schema). */
export interface BindingParameters {
  privileges?: CredentialPrivileges | null;
}

/** A binding request, checked for its shape by the API. */
export interface BindRequest {
  serviceId: string;
  planId: string;
  /** Deprecated by the spec in favour of bindResource.app_guid. */
  appGuid?: string;
  bindResource?: Record<string, unknown>;
  context?: Record<string, unknown>;
  parameters?: BindingParameters;
}

/** Made now, or made before by the same request. */
export interface BindOutcome {
  kind: 'bound' | 'already bound';
  binding: BindingAnswer;
}

/**
 * Service bindings: each is a dbaas credential on the instance's database, made through
 * CredentialsService as the broker user. Always synchronous.
 */
@Injectable()
export class BindingService {
  constructor(
    private readonly bindings: BrokerBindingRepository,
    private readonly lookup: InstanceLookup,
    private readonly credentials: CredentialsService,
    private readonly databases: DatabasesService,
    private readonly engines: EngineRegistry,
  ) {}

  async bind(
    instanceId: string,
    bindingId: string,
    request: BindRequest,
    call: BrokerCall,
  ): Promise<BindOutcome> {
    checkId('instance id', instanceId);
    checkId('binding id', bindingId);
    const instance = await this.lookup.findVisible(instanceId, call.viewer);
    if (!instance) throw new InvalidBrokerRequestError('No such service instance.');
    if (request.serviceId !== instance.serviceId || request.planId !== instance.planId)
      throw new InvalidBrokerRequestError(
        'service_id and plan_id are not those of this service instance.',
      );
    if (instance.status === 'provisioning' || instance.status === 'deprovisioning')
      throw new OperationInProgressError(
        `The service instance is being ${instance.status.replace(/ing$/, 'ed')}.`,
      );
    if (instance.status === 'deprovisioned')
      throw new InvalidBrokerRequestError('The service instance was deprovisioned.');
    if (instance.status === 'provision failed')
      throw new InvalidBrokerRequestError('The service instance was not provisioned.');
    const privileges = request.parameters?.privileges ?? 'owner';
    const appGuid = request.bindResource?.app_guid ?? request.appGuid ?? null;
    const fields = {
      bindingId,
      instanceId,
      serviceId: request.serviceId,
      planId: request.planId,
      appGuid: typeof appGuid === 'string' ? appGuid.slice(0, 255) : null,
      bindResource: request.bindResource ?? {},
      context: request.context ?? {},
      parameters: { ...request.parameters },
    };

    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.bindings.find(bindingId);
      if (existing) {
        const same =
          existing.instanceId === instanceId &&
          existing.serviceId === fields.serviceId &&
          existing.planId === fields.planId &&
          existing.appGuid === fields.appGuid &&
          canonicalJson(existing.parameters) === canonicalJson(fields.parameters) &&
          canonicalJson(existing.bindResource) === canonicalJson(fields.bindResource);
        if (!same)
          throw new BrokerResourceConflictError(
            'A service binding with this id exists with other attributes.',
          );
        if (existing.state === 'in progress') {
          if (Date.now() - existing.createdAt.getTime() < STALE_OPERATION_MS)
            throw new OperationInProgressError('This service binding is being created.');
          await this.bindings.removeInProgress(bindingId);
          continue;
        }
        return {
          kind: 'already bound',
          binding: await this.answer(instance, existing.credentialId, call.viewer),
        };
      }
      if (!(await this.bindings.insertInProgress(fields))) continue;
      let credentialId: number;
      try {
        const { credential } = await asCaller(call, () =>
          this.credentials.create(
            { user: bindingUserName(bindingId), database: instance.databaseId!, privileges },
            call.viewer,
          ),
        );
        credentialId = credential.id;
        await this.bindings.markBound(bindingId, credentialId);
      } catch (error) {
        // Nothing is left behind: the credential service already undid its own work.
        await this.bindings.remove(bindingId).catch(() => undefined);
        throw bindingError(error);
      }
      return { kind: 'bound', binding: await this.answer(instance, credentialId, call.viewer) };
    }
    throw new OperationInProgressError(
      'Another operation for this service binding is in progress.',
    );
  }

  /** A made binding with its credentials and the parameters it was made with. */
  async fetch(
    instanceId: string,
    bindingId: string,
    viewer: AuthenticatedUser,
  ): Promise<BindingAnswer & { parameters: Record<string, unknown> }> {
    const { instance, binding } = await this.find(instanceId, bindingId, viewer);
    if (!instance || !binding || binding.state !== 'succeeded')
      throw new BrokerResourceNotFoundError(
        'No such service binding, or it is still being created.',
      );
    const answer = await this.answer(instance, binding.credentialId, viewer);
    return { ...answer, parameters: binding.parameters };
  }

  async unbind(
    instanceId: string,
    bindingId: string,
    query: BrokerQuery,
    call: BrokerCall,
  ): Promise<void> {
    if (!query.serviceId || !query.planId)
      throw new InvalidBrokerRequestError(
        'The query parameters service_id and plan_id are required.',
      );
    const { instance, binding } = await this.find(instanceId, bindingId, call.viewer);
    if (!instance || !binding) throw new BrokerResourceGoneError('No such service binding.');
    if (binding.serviceId !== query.serviceId || binding.planId !== query.planId)
      throw new InvalidBrokerRequestError(
        'service_id and plan_id are not those of this service binding.',
      );
    if (
      binding.state === 'in progress' &&
      Date.now() - binding.createdAt.getTime() < STALE_OPERATION_MS
    )
      throw new OperationInProgressError('This service binding is being created.');
    const credentialId = binding.credentialId;
    if (credentialId !== null) {
      try {
        await asCaller(call, () =>
          this.credentials.remove(credentialId, call.viewer, { lastOwner: 'allow' }),
        );
      } catch (error) {
        // Already gone, or its database is in quarantine (its login is disabled there).
        if (!(error instanceof NotFoundError)) throw bindingError(error);
      }
    }
    await this.bindings.remove(bindingId);
  }

  /** The instance the viewer may see, and the binding if it is one of that instance's. */
  private async find(
    instanceId: string,
    bindingId: string,
    viewer: AuthenticatedUser,
  ): Promise<{ instance: BrokerInstance | null; binding: BrokerBinding | null }> {
    const instance = await this.lookup.findVisible(instanceId, viewer);
    const binding = instance ? await this.bindings.findOnInstance(instanceId, bindingId) : null;
    return { instance, binding };
  }

  /** The binding's credentials, read back from its credential and database. */
  private async answer(
    instance: BrokerInstance,
    credentialId: number | null,
    viewer: AuthenticatedUser,
  ): Promise<BindingAnswer> {
    try {
      const { credential, password } = await this.credentials.reveal(credentialId!, viewer);
      const { database } = await this.databaseView(instance, viewer);
      const login = { username: credential.user, password };
      const provider = this.engines.get(database.engineType);
      const details = provider.connectionDetails(database.addresses, database.name, login);
      return bindingCredentials(details, database.name, login);
    } catch (error) {
      if (error instanceof NotFoundError)
        throw new BrokerResourceNotFoundError(
          'The database of this binding is not available (in quarantine or removed).',
        );
      throw error;
    }
  }

  /** The database with its infra, without waiting for a used-size measurement. */
  private async databaseView(
    instance: BrokerInstance,
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
}

/** A credential refused because its database is in quarantine: the request does not fit. */
function bindingError(error: unknown): unknown {
  if (error instanceof ConflictError && /quarantine/i.test(error.message))
    return new InvalidBrokerRequestError(error.message);
  return error;
}
