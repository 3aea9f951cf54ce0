export * from './sample-catalog';
export * from './sample-data.module';
export * from './sample-data.service';
