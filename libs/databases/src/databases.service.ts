import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { PlacementService } from '@dbaas/catalog';
import {
  APP_CONFIG,
  AppConfig,
  ConflictError,
  nameProblem,
  normalizeName,
  NotFoundError,
  Page,
  PageRequest,
  skipTake,
  ValidationFailedError,
} from '@dbaas/core';
import { CredentialsService, defaultUserName } from '@dbaas/credentials';
import { InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner, TaskHistory } from '@dbaas/operations';
import {
  DatabaseEntity,
  PlanEntity,
  ProjectEntity,
  TeamEntity,
  EnvironmentEntity,
  requireOne,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { UsedSizeCache } from './used-size.cache';

export interface DatabaseInput {
  name: string;
  plan: number;
  environment: number;
  project?: number | null;
  team?: number;
  description?: string;
}

export interface DatabaseChanges {
  project?: number | null;
  description?: string;
  /** Read-only after creation: accepted only when unchanged. */
  name?: string;
  plan?: number;
  environment?: number;
}

export interface DatabaseFilter {
  name?: string;
  environment?: number;
  plan?: number;
  project?: number;
  team?: number;
  engine?: number;
  /** dba only: true = only quarantined, false = only live. */
  quarantine?: boolean;
}

/** A database as the API shows it: the record plus what comes from its engine. */
export interface DatabaseView {
  database: DatabaseEntity;
  engineId: number;
  endpoint: string;
  totalSizeInBytes: number;
  usedSizeInBytes: number | null;
}

/** The created database with the password of its default credential. */
export interface CreatedDatabase extends DatabaseView {
  defaultPassword: string;
}

@Injectable()
export class DatabasesService {
  private readonly logger = new Logger('Databases');
  private readonly sizes: UsedSizeCache;

  constructor(
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    @InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>,
    @InjectRepository(EnvironmentEntity)
    private readonly environments: Repository<EnvironmentEntity>,
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
    private readonly placement: PlacementService,
    private readonly infras: InfraAccess,
    private readonly credentials: CredentialsService,
    private readonly policy: AccessPolicy,
    private readonly runner: OperationRunner,
    private readonly history: TaskHistory,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sizes = new UsedSizeCache(config.usedSizeCacheSeconds * 1000);
  }

  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: DatabaseFilter,
  ): Promise<Page<DatabaseView>> {
    const query = this.policy
      .scopeDatabases(viewer, this.withDetails())
      .orderBy('database.id', 'ASC');
    if (filter.name !== undefined)
      query.andWhere('database.name = :name', { name: normalizeName(filter.name) });
    for (const key of ['environment', 'plan', 'project', 'team'] as const) {
      if (filter[key] !== undefined)
        query.andWhere(`database.${key}Id = :${key}`, { [key]: filter[key] });
    }
    if (filter.engine !== undefined)
      query.andWhere('infra.engineId = :engine', { engine: filter.engine });
    if (filter.quarantine !== undefined && this.policy.isDba(viewer)) {
      query.andWhere(
        filter.quarantine ? "database.status = 'quarantined'" : "database.status <> 'quarantined'",
      );
    }
    const { skip, take } = skipTake(page);
    const [rows, count] = await query.skip(skip).take(take).getManyAndCount();
    // Lists show the last measured size and refresh it in the background: never wait on an engine.
    for (const row of rows) void this.measure(row);
    return { items: rows.map((row) => this.view(row, this.sizes.peek(row.id))), count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<DatabaseView> {
    const database = await this.findVisible(id, viewer);
    return this.view(database, await this.measure(database));
  }

  /** The database with its infra, plan and credentials, or 404 for the viewer. */
  async findVisible(id: number, viewer: AuthenticatedUser): Promise<DatabaseEntity> {
    const database = await this.withDetails().where('database.id = :id', { id }).getOne();
    if (!database || !this.policy.canSeeDatabase(viewer, database))
      throw new NotFoundError('database', id);
    return database;
  }

  /**
   * Creates the database on the engine with its default credential `u_<name>`, as a task
   * holding the lock of (environment, name). The row is written first (status
   * `creating`), so the name is claimed before any engine work; if the engine fails,
   * everything made so far is undone and the row removed. If the process dies instead,
   * the reconciler finds the `creating` row and does the same.
   */
  async create(input: DatabaseInput, viewer: AuthenticatedUser): Promise<CreatedDatabase> {
    const plan = await this.plans.findOne({
      where: { id: input.plan },
      relations: { environments: true, engine: { engineType: true } },
    });
    if (!plan) throw new ValidationFailedError({ plan: [`no plan with id ${input.plan}`] });
    await requireOne(this.environments, 'environment', 'environment', input.environment);
    if (!plan.isActive || !plan.environments.some((e) => e.id === input.environment)) {
      throw new ValidationFailedError({ plan: ['this plan is not offered in this environment'] });
    }
    const provider = this.infras.providerFor(plan.engine.engineType.name);
    const name = normalizeName(input.name);
    const problem =
      nameProblem(name) ?? (provider.reservedNames.includes(name) ? `"${name}" is reserved by the engine` : null);
    if (problem) throw new ValidationFailedError({ name: [problem] });
    const teamId = await this.teamFor(input.team, viewer);
    if (input.project != null) await requireOne(this.projects, 'project', 'project', input.project);
    if (await this.databases.existsBy({ environmentId: input.environment, name })) {
      throw new ConflictError(`A database named ${name} already exists in this environment.`);
    }
    const subject = { type: 'create_database' as const, userId: viewer.id, databaseName: name, teamId };
    const password = await this.runner.run(subject, databaseLockKey(input.environment, name), async (task) => {
      const infraId = await this.placement.place(plan.id, input.environment);
      const { target } = await this.infras.connect(infraId);
      // An engine that does not answer gets a 503 before anything is written.
      await provider.ping(target);
      const row = await translateStoreErrors('database', () =>
        this.databases.save(
          this.databases.create({
            name,
            description: input.description ?? '',
            planId: plan.id,
            environmentId: input.environment,
            infraId,
            projectId: input.project ?? null,
            teamId,
            status: 'creating',
            quarantineDt: null,
          }),
        ),
      );
      await this.history.attach(task, row.id);
      try {
        await provider.createDatabase(target, name);
        const { password } = await this.credentials.createFor(row, defaultUserName(name, provider.userNameMaxLength), 'owner');
        await this.databases.update(row.id, { status: 'ready' });
        return { id: row.id, password };
      } catch (error) {
        await this.destroy(row).catch((cleanup: Error) =>
          this.logger.warn(`Rollback of ${name} left work for the reconciler: ${cleanup.message}`),
        );
        throw error;
      }
    });
    const view = await this.get(password.id, viewer);
    return { ...view, defaultPassword: password.password };
  }

  /**
   * Drops every user and the database on the engine, then the records; idempotent, so a
   * retry after a failure converges. The caller holds the database's lock.
   */
  async destroy(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await this.databases.update(database.id, { status: 'deleting' });
    await this.credentials.dropAll(database);
    await provider.dropDatabase(target, database.name);
    await this.databases.delete(database.id);
    this.sizes.forget(database.id);
  }

  /** 503 before any state changes when the engine does not answer. */
  async ensureReachable(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.ping(target);
  }

  async update(
    id: number,
    changes: DatabaseChanges,
    viewer: AuthenticatedUser,
  ): Promise<DatabaseView> {
    const database = await this.findVisible(id, viewer);
    const errors: Record<string, string[]> = {};
    if (changes.name !== undefined && normalizeName(changes.name) !== database.name)
      errors.name = ['is read-only after creation'];
    if (changes.plan !== undefined && changes.plan !== database.planId)
      errors.plan = ['is read-only after creation'];
    if (changes.environment !== undefined && changes.environment !== database.environmentId) {
      errors.environment = ['is read-only after creation'];
    }
    if (Object.keys(errors).length) throw new ValidationFailedError(errors);
    if (changes.project != null)
      await requireOne(this.projects, 'project', 'project', changes.project);
    const update: Partial<DatabaseEntity> = {};
    if (changes.project !== undefined) update.projectId = changes.project;
    if (changes.description !== undefined) update.description = changes.description;
    if (Object.keys(update).length) await this.databases.update(id, update);
    return this.get(id, viewer);
  }

  forgetSize(id: number): void {
    this.sizes.forget(id);
  }

  private async teamFor(requested: number | undefined, viewer: AuthenticatedUser): Promise<number> {
    if (requested === undefined) {
      if (viewer.teamIds.length === 1) return viewer.teamIds[0];
      throw new ValidationFailedError({
        team: [`is required: you belong to ${viewer.teamIds.length} teams`],
      });
    }
    await requireOne(this.teams, 'team', 'team', requested);
    if (!this.policy.canSeeTeam(viewer, requested)) {
      throw new ValidationFailedError({ team: ['you are not a member of this team'] });
    }
    return requested;
  }

  private withDetails(): SelectQueryBuilder<DatabaseEntity> {
    return this.databases
      .createQueryBuilder('database')
      .innerJoinAndSelect('database.plan', 'plan')
      .innerJoinAndSelect('database.infra', 'infra')
      .innerJoinAndSelect('infra.engine', 'engine')
      .innerJoinAndSelect('engine.engineType', 'engineType')
      .leftJoinAndSelect('database.credentials', 'credential');
  }

  private measure(database: DatabaseEntity): Promise<number | null> {
    return this.sizes.get(database.id, async () => {
      const { provider, target } = await this.infras.connect(database.infraId);
      return provider.usedSize(target, database.name);
    });
  }

  private view(database: DatabaseEntity, usedSizeInBytes: number | null): DatabaseView {
    const provider = this.infras.providerFor(database.infra.engine.engineType.name);
    const target = {
      id: database.infraId,
      addresses: database.infra.addresses,
      adminUser: '',
      adminPassword: '',
    };
    database.credentials?.sort((a, b) => a.id - b.id);
    return {
      database,
      engineId: database.infra.engineId,
      endpoint: provider.endpoint(target, database.name),
      totalSizeInBytes: database.plan.sizeLimitInBytes,
      usedSizeInBytes,
    };
  }
}
