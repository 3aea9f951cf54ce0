import { BackupEntity } from './backup.entity';
import { BrokerBindingEntity } from './broker-binding.entity';
import { BrokerInstanceEntity } from './broker-instance.entity';
import { CredentialEntity } from './credential.entity';
import { DatabaseEntity } from './database.entity';
import { EngineTypeEntity } from './engine-type.entity';
import { EngineEntity } from './engine.entity';
import { EnvironmentEntity } from './environment.entity';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { InfraEntity } from './infra.entity';
import { PlanEntity } from './plan.entity';
import { ProjectEntity } from './project.entity';
import { TaskEntity } from './task.entity';
import { TeamEntity } from './team.entity';
import { UserEntity } from './user.entity';

export {
  BackupEntity,
  BrokerBindingEntity,
  BrokerInstanceEntity,
  CredentialEntity,
  DatabaseEntity,
  EngineTypeEntity,
  EngineEntity,
  EnvironmentEntity,
  IdempotencyKeyEntity,
  InfraEntity,
  PlanEntity,
  ProjectEntity,
  TaskEntity,
  TeamEntity,
  UserEntity,
};
export * from './backup.entity';
export * from './broker-binding.entity';
export * from './broker-instance.entity';
export * from './credential.entity';
export * from './database.entity';
export * from './task.entity';
export * from './user.entity';

export const ENTITIES = [
  BackupEntity,
  BrokerBindingEntity,
  BrokerInstanceEntity,
  CredentialEntity,
  DatabaseEntity,
  EngineTypeEntity,
  EngineEntity,
  EnvironmentEntity,
  IdempotencyKeyEntity,
  InfraEntity,
  PlanEntity,
  ProjectEntity,
  TaskEntity,
  TeamEntity,
  UserEntity,
];
