import { AuthenticatedUser, TeamRepository, UserRepository } from '@dbaas/auth';
import {
  EngineRepository,
  EngineTypeRepository,
  EnvironmentRepository,
  InfraRepository,
  PlanRepository,
} from '@dbaas/catalog';
import { BACKUP_STORAGE, BackupStorage } from '@dbaas/backups';
import { PasswordHasher, SecretBox } from '@dbaas/core';
import { DatabasesService, ProjectsService } from '@dbaas/databases';
import {
  EngineEntity,
  EngineTypeEntity,
  EnvironmentEntity,
  InfraEntity,
  PlanEntity,
  TeamEntity,
  UserEntity,
} from '@dbaas/persistence';
import { QuarantineService } from '@dbaas/quarantine';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  SAMPLE_DATABASES,
  SAMPLE_ENGINES,
  SAMPLE_ENVIRONMENTS,
  SAMPLE_PASSWORD,
  SampleEngine,
  sampleInfraTarget,
} from './sample-catalog';
import { StoreResetRepository } from './store-reset.repository';

export interface ResetOptions {
  /** Also create the sample databases on the local engines (default: the catalog only). */
  withDatabases?: boolean;
}

/** What the sample databases are filed with. */
interface SampleCatalog {
  admin: AuthenticatedUser;
  dbaasTeam: number;
  team1: number;
  planOf: Map<SampleEngine['type'], number>;
}

/**
 * The catalog and auth repositories on one transaction: the sample catalog is written
 * whole or not at all.
 */
function repositoriesIn(transaction: EntityManager) {
  return {
    users: new UserRepository(transaction.getRepository(UserEntity)),
    teams: new TeamRepository(transaction.getRepository(TeamEntity)),
    environments: new EnvironmentRepository(transaction.getRepository(EnvironmentEntity)),
    engineTypes: new EngineTypeRepository(transaction.getRepository(EngineTypeEntity)),
    engines: new EngineRepository(transaction.getRepository(EngineEntity)),
    plans: new PlanRepository(transaction.getRepository(PlanEntity)),
    infras: new InfraRepository(transaction.getRepository(InfraEntity)),
  };
}

@Injectable()
export class SampleDataService {
  private readonly logger = new Logger('SampleData');

  constructor(
    private readonly store: StoreResetRepository,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly secrets: SecretBox,
    private readonly databases: DatabasesService,
    private readonly projects: ProjectsService,
    private readonly quarantine: QuarantineService,
    @Inject(BACKUP_STORAGE) private readonly backupStorage: BackupStorage,
  ) {}

  /**
   * `npm start` on an empty store seeds the sample data; an existing store is left alone.
   * The sample databases only with `withDatabases` (`DBAAS_SAMPLE_DATABASES=true`).
   */
  async seedIfEmpty(options: ResetOptions = {}): Promise<boolean> {
    if ((await this.users.count()) > 0) return false;
    await this.reset(options);
    return true;
  }

  /**
   * Drops the databases the store knows of from their engines (best effort, no final
   * backups), empties the store (the `backup` table too) and removes every backup file, and
   * recreates the sample catalog with ids starting at 1. With `withDatabases`, then the
   * sample databases on every infra that answers; without, no engine is written to beyond
   * those drops.
   */
  async reset(options: ResetOptions = {}): Promise<void> {
    await this.quarantine.destroyAll();
    const catalog = await this.store.emptyAndRefill((transaction) =>
      this.createCatalog(repositoriesIn(transaction)),
    );
    await this.removeBackupFiles();
    // The admin's team, as the project-team migration gives an old project with no databases.
    await this.projects.create(
      {
        name: 'sample-project',
        description: 'A project to file databases under',
        team: catalog.dbaasTeam,
      },
      catalog.admin,
    );
    this.logger.log('Sample catalog created: admin/123456 (dba), user/123456 (regular)');
    if (options.withDatabases) await this.createSampleDatabases(catalog);
  }

  /** Every file of the backup storage: no backup row names them any more. */
  private async removeBackupFiles(): Promise<void> {
    const keys = await this.backupStorage.list('');
    for (const key of keys) await this.backupStorage.delete(key);
    if (keys.length)
      this.logger.log(`${keys.length} backup file(s) removed from ${this.backupStorage.location}`);
  }

  /** Sample databases, each on the infra of its engine; an infra that does not answer is skipped. */
  private async createSampleDatabases(catalog: SampleCatalog): Promise<void> {
    for (const sample of SAMPLE_DATABASES) {
      try {
        await this.databases.create(
          {
            name: sample.name,
            plan: catalog.planOf.get(sample.engine)!,
            environment: 1,
            team: sample.team1 ? catalog.team1 : undefined,
          },
          catalog.admin,
        );
        this.logger.log(`Sample database ${sample.name} created on the local ${sample.engine}`);
      } catch (error) {
        this.logger.warn(`Sample database ${sample.name} skipped: ${(error as Error).message}`);
      }
    }
  }

  private async createCatalog(
    repositories: ReturnType<typeof repositoriesIn>,
  ): Promise<SampleCatalog> {
    const { users, teams, environments, engineTypes, engines, plans, infras } = repositories;
    const passwordHash = await this.hasher.hash(SAMPLE_PASSWORD);
    const admin = await users.insert({ username: 'admin', role: 'dba', passwordHash, teamIds: [] });
    const user = await users.insert({
      username: 'user',
      role: 'regular',
      passwordHash,
      teamIds: [],
    });
    const dbaasTeam = await teams.insert({ name: 'dbaas', userIds: [admin] });
    const team1 = await teams.insert({ name: 'team1', userIds: [user] });

    const environmentIds = [];
    for (const name of SAMPLE_ENVIRONMENTS)
      environmentIds.push(await environments.insert({ name }));
    const [dev] = environmentIds;

    const typeIds = [];
    for (const engine of SAMPLE_ENGINES)
      typeIds.push(await engineTypes.insert({ name: engine.type }));
    const engineIds = [];
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      engineIds.push(await engines.insert({ engineTypeId: typeIds[i], version: engine.version }));
    }
    const planOf = new Map<SampleEngine['type'], number>();
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      const plan = await plans.insert({
        name: engine.plan,
        description: engine.description,
        engineId: engineIds[i],
        environmentIds,
        sizeLimitInBytes: engine.sizeLimitInBytes,
        backupHour: engine.backupHour,
        backupRetentionDays: engine.backupRetentionDays,
        maxConnections: 0,
        isActive: true,
        isDefault: i === 0,
      });
      planOf.set(engine.type, plan);
    }
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      const target = sampleInfraTarget(engine);
      await infras.insert({
        name: `${engine.type}-dev-local`,
        engineId: engineIds[i],
        planIds: [planOf.get(engine.type)!],
        environmentId: dev,
        addresses: target.addresses,
        adminUser: target.adminUser,
        adminPasswordEncrypted: this.secrets.encrypt(target.adminPassword),
        capacity: 100,
      });
    }
    return {
      admin: { id: admin, username: 'admin', role: 'dba', teamIds: [dbaasTeam] },
      dbaasTeam,
      team1,
      planOf,
    };
  }
}
