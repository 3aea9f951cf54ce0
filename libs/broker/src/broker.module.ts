import { AuthModule } from '@dbaas/auth';
import { BackupsModule } from '@dbaas/backups';
import { CatalogModule } from '@dbaas/catalog';
import { CredentialsModule } from '@dbaas/credentials';
import { DatabasesModule } from '@dbaas/databases';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { BrokerBindingEntity, BrokerInstanceEntity } from '@dbaas/persistence';
import { QuarantineModule } from '@dbaas/quarantine';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BindingService } from './bindings/binding.service';
import { BrokerBindingRepository } from './bindings/broker-binding.repository';
import { BrokerCatalog } from './catalog/broker-catalog.service';
import { BackgroundOperations } from './instances/background-operations';
import { BrokerInstanceRepository } from './instances/broker-instance.repository';
import { DeprovisioningService } from './instances/deprovisioning.service';
import { InstanceLookup } from './instances/instance-lookup.service';
import { InstanceStatusService } from './instances/instance-status.service';
import { ProvisioningService } from './instances/provisioning.service';
import { UpdatingService } from './instances/updating.service';

const SERVICES = [
  BrokerCatalog,
  ProvisioningService,
  UpdatingService,
  DeprovisioningService,
  InstanceStatusService,
  BindingService,
];

/**
 * The Open Service Broker: service instances are databases, bindings are credentials.
 * It owns the broker_instance and broker_binding tables; databases, credentials and the
 * catalog are used through their services. The HTTP side (routes, guard, OSB error
 * answers) is the API's.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([BrokerInstanceEntity, BrokerBindingEntity]),
    AuthModule,
    BackupsModule,
    CatalogModule,
    CredentialsModule,
    DatabasesModule,
    EnginesModule,
    OperationsModule,
    QuarantineModule.forRoot({ withBackgroundJobs: false }),
  ],
  providers: [
    ...SERVICES,
    BrokerInstanceRepository,
    BrokerBindingRepository,
    InstanceLookup,
    BackgroundOperations,
  ],
  exports: SERVICES,
})
export class BrokerModule {}
