export * from './databases.module';
export * from './databases.service';
export * from './used-size.cache';
export * from './lifecycle-reconciler.service';
export * from './projects.service';
export * from './drift-repair.service';
