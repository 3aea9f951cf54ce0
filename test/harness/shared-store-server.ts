/**
 * An admin URL of a running PostgreSQL to put every store on (a database of its own each)
 * instead of starting a server per store. `npm run mutate` sets it (test/mutate.ts):
 * Stryker runs a spec's `beforeAll` for every mutant, and a new cluster (initdb, start)
 * costs seconds each time; a new database on a running server costs a fraction of one.
 *
 * In a module of its own: test/mutate.ts runs under tsx, which emits no decorator
 * metadata, so it must not load store.harness (and through it the TypeORM entities).
 */
export const SHARED_STORE_SERVER_ENV = 'DBAAS_TEST_STORE_SERVER';
