import { BrokerCatalog } from './broker-catalog.service';
import { BrokerController } from './broker.controller';
import { BrokerGuard } from './broker.guard';
import { BrokerService } from './broker.service';

/** The Open Service Broker API: registered by AppModule. */
export const BROKER_CONTROLLERS = [BrokerController];
export const BROKER_PROVIDERS = [BrokerCatalog, BrokerService, BrokerGuard];
