/**
 * The step boundaries where a test may stop the API process (see testFault).
 * - `database-owner-created`: a database create made the database and its owner on the
 *   engine, both records still `creating`;
 * - `database-filled`: a clone or `from_backup` create made the database and copied the data
 *   into it, before its owner credential (the row is still `creating`);
 * - `credential-user-created`: a credential create made its user on the engine, the
 *   record is still `creating`;
 * - `access-revoked`: one credential's access was revoked (quarantine, `quarantining`);
 * - `access-restored`: one credential's access is back, with a new password on the engine
 *   and in the store (restore, `restoring`);
 * - `users-dropped`: a deleted database's users are dropped, the database is not
 *   (`deleting`);
 * - `credential-marked-deleting`: a credential is `deleting`, its user not dropped yet;
 * - `password-stored`: a reset's new password is stored (`resetting`), not yet on the engine;
 * - `backup-dumping`: a backup (`running`) has sealed its first bytes, its file is partial;
 * - `backup-restoring`: a restore in place (`restoring_backup`) has fed its tool the first
 *   bytes of the backup.
 */
export type FaultStep =
  | 'database-owner-created'
  | 'database-filled'
  | 'credential-user-created'
  | 'access-revoked'
  | 'access-restored'
  | 'users-dropped'
  | 'credential-marked-deleting'
  | 'password-stored'
  | 'backup-dumping'
  | 'backup-restoring';

/**
 * TEST ONLY. Kills this process (SIGKILL: no answer, no shutdown hook, as a crash or an
 * OOM kill would) when it reaches `step` on the database `database`, so that the e2e suite
 * test/e2e/crash-every-state.e2e-spec.ts can prove what the reconciler makes of the state
 * left behind. Inert unless the environment variable DBAAS_TEST_FAULT is exactly
 * `<step>@<database>`; it is not a setting and nothing but that suite sets it.
 */
export function testFault(step: FaultStep, database: string): void {
  const armed = process.env.DBAAS_TEST_FAULT;
  if (armed === undefined || armed !== `${step}@${database}`) return;
  process.kill(process.pid, 'SIGKILL');
  // Nothing more of this process may run while the signal lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** TEST ONLY. Whether testFault(step, database) would stop this process (see testFault). */
export function faultArmed(step: FaultStep, database: string): boolean {
  return process.env.DBAAS_TEST_FAULT === `${step}@${database}`;
}
