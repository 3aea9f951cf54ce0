import { SecretBox } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { EngineProvider, EngineTypeName, InfraTarget } from './engine-provider';
import { EngineRegistry } from './engine-registry';

/** An infra ready to talk to: its provider and its decrypted admin login. */
export interface ConnectedInfra {
  infra: InfraEntity;
  provider: EngineProvider;
  target: InfraTarget;
}

/** Turns an infra row into something an engine provider can act on. */
@Injectable()
export class InfraAccess {
  constructor(
    @InjectRepository(InfraEntity) private readonly infras: Repository<InfraEntity>,
    private readonly secrets: SecretBox,
    private readonly registry: EngineRegistry,
  ) {}

  async connect(infraId: number): Promise<ConnectedInfra> {
    const infra = await this.infras
      .createQueryBuilder('infra')
      .addSelect('infra.adminPasswordEncrypted')
      .innerJoinAndSelect('infra.engine', 'engine')
      .innerJoinAndSelect('engine.engineType', 'engineType')
      .where('infra.id = :infraId', { infraId })
      .getOneOrFail();
    return {
      infra,
      provider: this.registry.get(infra.engine.engineType.name as EngineTypeName),
      target: {
        id: infra.id,
        addresses: infra.addresses,
        adminUser: infra.adminUser,
        adminPassword: this.secrets.decrypt(infra.adminPasswordEncrypted),
      },
    };
  }

  /** The provider for an engine type name, without an infra (name rules, limits). */
  providerFor(engineType: string): EngineProvider {
    return this.registry.get(engineType as EngineTypeName);
  }
}
