import { BrokerController } from './broker.controller';
import { BrokerGuard } from './broker.guard';

/** The Open Service Broker API over @dbaas/broker (BrokerModule): registered by AppModule. */
export const BROKER_CONTROLLERS = [BrokerController];
export const BROKER_PROVIDERS = [BrokerGuard];
