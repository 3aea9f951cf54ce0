export * from './catalog.module';
export * from './infras.service';
export * from './plans.service';
export * from './simple-catalog.services';
export * from './placement.service';
