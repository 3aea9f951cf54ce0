import { TransitionTable } from '@dbaas/core';
import { CredentialStatus } from '@dbaas/persistence';

/**
 * The lifecycle of a credential, from → allowed to. `creating`, `resetting` and
 * `deleting` mark engine work in flight: if the process dies, the reconciler rolls back a
 * create and finishes a reset or a drop (CREDENTIAL_RECOVERY). A credential row is
 * deleted (no state) once its user is dropped.
 *
 * - `creating` → `ready`: its user exists on the engine; → `deleting`: its database goes.
 * - `ready` → `resetting`: a new password is stored, the engine catches up; → `deleting`.
 * - `resetting` → `ready`: the engine has the new password; → `resetting`: a retried reset
 *   stores another one; → `deleting`.
 * - `deleting` → nothing: the row is deleted once its user is dropped.
 */
export const CREDENTIAL_TRANSITIONS: TransitionTable<CredentialStatus> = {
  creating: ['ready', 'deleting'],
  ready: ['resetting', 'deleting'],
  resetting: ['ready', 'resetting', 'deleting'],
  deleting: [],
};

/** What the reconciler does with a credential left in a state: the work in flight is undone or finished. */
export type CredentialRecoveryStep =
  'roll back the create' | 'finish the reset' | 'finish the drop';

/** The recovery step per unfinished state (`ready` has none). */
export const CREDENTIAL_RECOVERY: Readonly<
  Partial<Record<CredentialStatus, CredentialRecoveryStep>>
> = {
  creating: 'roll back the create',
  resetting: 'finish the reset',
  deleting: 'finish the drop',
};
