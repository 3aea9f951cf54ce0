import { PasswordHasher, SecretBox } from '@dbaas/core';
import { DatabasesService } from '@dbaas/databases';
import { QuarantineService } from '@dbaas/quarantine';
import {
  EngineEntity,
  EngineTypeEntity,
  EnvironmentEntity,
  InfraEntity,
  PlanEntity,
  ProjectEntity,
  TeamEntity,
  UserEntity,
} from '@dbaas/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  SAMPLE_DATABASES,
  SAMPLE_ENGINES,
  SAMPLE_ENVIRONMENTS,
  SAMPLE_PASSWORD,
  sampleInfraTarget,
} from './sample-catalog';

/** Tables emptied by a reset, children first. */
const TABLES = [
  'idempotency_key',
  'task',
  'credential',
  'database',
  'infra',
  'plan_environment',
  'plan',
  'engine',
  'engine_type',
  'environment',
  'project',
  'team_user',
  'team',
  '"user"',
];

export interface ResetOptions {
  /** Also create the sample databases on the local engines (default: the catalog only). */
  withDatabases?: boolean;
}

@Injectable()
export class SampleDataService {
  private readonly logger = new Logger('SampleData');

  constructor(
    @InjectDataSource() private readonly store: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly secrets: SecretBox,
    private readonly databases: DatabasesService,
    private readonly quarantine: QuarantineService,
  ) {}

  /**
   * `npm start` on an empty store seeds the sample data; an existing store is left alone.
   * The sample databases only with `withDatabases` (`DBAAS_SAMPLE_DATABASES=true`).
   */
  async seedIfEmpty(options: ResetOptions = {}): Promise<boolean> {
    const users = await this.store.getRepository(UserEntity).count();
    if (users > 0) return false;
    await this.reset(options);
    return true;
  }

  /**
   * Drops the databases the store knows of from their engines (best effort), empties the
   * store and recreates the sample catalog with ids starting at 1. With `withDatabases`, then
   * the sample databases on every infra that answers; without, no engine is written to
   * beyond those drops.
   */
  async reset(options: ResetOptions = {}): Promise<void> {
    await this.quarantine.destroyAll();
    await this.store.transaction(async (manager) => {
      await manager.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
      await this.createCatalog(manager);
    });
    this.logger.log('Sample catalog created: admin/123456 (dba), user/123456 (regular)');
    if (options.withDatabases) await this.createSampleDatabases();
  }

  /** Sample databases, each on the infra of its engine; an infra that does not answer is skipped. */
  private async createSampleDatabases(): Promise<void> {
    const admin = await this.store.getRepository(UserEntity).findOneOrFail({
      where: { username: 'admin' },
      relations: { teams: true },
    });
    const team1 = await this.store.getRepository(TeamEntity).findOneByOrFail({ name: 'team1' });
    const viewer = {
      id: admin.id,
      username: admin.username,
      role: admin.role,
      teamIds: admin.teams.map((t) => t.id),
    };
    for (const sample of SAMPLE_DATABASES) {
      const engine = SAMPLE_ENGINES.find((e) => e.type === sample.engine)!;
      const plan = await this.store
        .getRepository(PlanEntity)
        .findOneByOrFail({ name: engine.plan });
      try {
        await this.databases.create(
          {
            name: sample.name,
            plan: plan.id,
            environment: 1,
            team: sample.team1 ? team1.id : undefined,
          },
          viewer,
        );
        this.logger.log(`Sample database ${sample.name} created on the local ${sample.engine}`);
      } catch (error) {
        this.logger.warn(`Sample database ${sample.name} skipped: ${(error as Error).message}`);
      }
    }
  }

  private async createCatalog(manager: EntityManager): Promise<void> {
    const passwordHash = await this.hasher.hash(SAMPLE_PASSWORD);
    const admin = await manager.save(UserEntity, {
      username: 'admin',
      role: 'dba' as const,
      passwordHash,
    });
    const user = await manager.save(UserEntity, {
      username: 'user',
      role: 'regular' as const,
      passwordHash,
    });
    const dbaas = await manager.save(TeamEntity, { name: 'dbaas', users: [admin] });
    await manager.save(TeamEntity, { name: 'team1', users: [user] });

    const environments = [];
    for (const name of SAMPLE_ENVIRONMENTS)
      environments.push(await manager.save(EnvironmentEntity, { name }));
    const [dev] = environments;

    const types = [];
    for (const engine of SAMPLE_ENGINES)
      types.push(await manager.save(EngineTypeEntity, { name: engine.type }));
    const engines = [];
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      engines.push(
        await manager.save(EngineEntity, { engineTypeId: types[i].id, version: engine.version }),
      );
    }
    const plans = [];
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      plans.push(
        await manager.save(PlanEntity, {
          name: engine.plan,
          description: engine.description,
          engineId: engines[i].id,
          environments,
          sizeLimitInBytes: engine.sizeLimitInBytes,
          isActive: true,
          isDefault: i === 0,
        }),
      );
    }
    for (const [i, engine] of SAMPLE_ENGINES.entries()) {
      const target = sampleInfraTarget(engine);
      await manager.save(InfraEntity, {
        name: `${engine.type}-dev-local`,
        engineId: engines[i].id,
        planId: plans[i].id,
        environmentId: dev.id,
        addresses: target.addresses,
        adminUser: target.adminUser,
        adminPasswordEncrypted: this.secrets.encrypt(target.adminPassword),
        capacity: 100,
      });
    }
    // The admin's team, as the project-team migration gives an old project with no databases.
    await manager.save(ProjectEntity, {
      name: 'sample-project',
      description: 'A project to file databases under',
      teamId: dbaas.id,
    });
  }
}
