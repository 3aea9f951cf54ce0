/**
 * An admin URL of a running PostgreSQL to put every medium spec's store on (a database of
 * its own each) instead of starting a server per store. `npm run mutate` (test/mutate.ts)
 * sets it: Stryker runs a spec's `beforeAll` for every mutant, and a new cluster (initdb,
 * start) costs seconds each time; a new database on a running server a fraction of one.
 * (A module of its own, without imports: test/mutate.ts runs under tsx, which cannot load
 * the TypeORM entities that store.harness.ts imports.)
 */
export const SHARED_STORE_SERVER_ENV = 'DBAAS_TEST_STORE_SERVER';
