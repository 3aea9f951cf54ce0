import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { PlacementService } from '@dbaas/catalog';
import {
  APP_CONFIG,
  AppConfig,
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
   * Creates the database on the engine with its default credential `u_<name>`. The row is
   * written first (status `creating`), so the unique name is claimed before any engine
   * work; if the engine fails, everything made so far is undone and the row removed.
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
      nameProblem(name) ??
      (provider.reservedNames.includes(name) ? `"${name}" is reserved by the engine` : null);
    if (problem) throw new ValidationFailedError({ name: [problem] });
    const teamId = await this.teamFor(input.team, viewer);
    if (input.project != null) await requireOne(this.projects, 'project', 'project', input.project);
    const infraId = await this.placement.place(plan.id, input.environment);
    const { target } = await this.infras.connect(infraId);

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
    try {
      await provider.createDatabase(target, name);
      const { password } = await this.credentials.createFor(
        row,
        defaultUserName(name, provider.userNameMaxLength),
        'owner',
      );
      await this.databases.update(row.id, { status: 'ready' });
      const view = await this.get(row.id, viewer);
      return { ...view, defaultPassword: password };
    } catch (error) {
      await this.undoCreate(row, target, provider);
      throw error;
    }
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

  private async undoCreate(
    row: DatabaseEntity,
    target: Awaited<ReturnType<InfraAccess['connect']>>['target'],
    provider: ReturnType<InfraAccess['providerFor']>,
  ): Promise<void> {
    try {
      await this.credentials.dropAll(row);
      await provider.dropDatabase(target, row.name);
      await this.databases.delete(row.id);
    } catch (cleanupError) {
      // The engine is down: nothing could have been made on it that we know of, but keep
      // the record honest by removing it anyway; leftovers on the engine are idempotent to retry.
      this.logger.warn(
        `Cleanup after a failed create of ${row.name}: ${(cleanupError as Error).message}`,
      );
      await this.databases.delete({ id: row.id }).catch(() => undefined);
    }
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
