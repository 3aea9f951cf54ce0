export * from './data-source-options';
export * from './entities';
export * from './migrations';
export * from './persistence.module';
export * from './store-errors';
export * from './require-rows';
export * from './raw-rows';
export * from './statement-counter';
