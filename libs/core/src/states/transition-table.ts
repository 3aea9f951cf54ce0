import { ConflictError } from '../errors/domain-errors';

/**
 * A lifecycle as data: for every state, the states it may move to. Databases, credentials
 * and broker instances each declare one; the repository method that writes a status checks
 * the move against it, and the reconciler looks up what to do with a state there.
 */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export function canTransition<S extends string>(
  table: TransitionTable<S>,
  from: S,
  to: S,
): boolean {
  return table[from].includes(to);
}

/** Refuses a move the table does not allow: a 409 naming both states. */
export function assertTransition<S extends string>(
  table: TransitionTable<S>,
  subject: string,
  from: S,
  to: S,
): void {
  if (!canTransition(table, from, to)) {
    throw new IllegalTransitionError(subject, from, to);
  }
}

/** The states a move to `to` may start from (the `WHERE status IN (...)` of a guarded update). */
export function statesLeadingTo<S extends string>(table: TransitionTable<S>, to: S): S[] {
  return (Object.keys(table) as S[]).filter((from) => table[from].includes(to));
}

export class IllegalTransitionError extends ConflictError {
  constructor(
    readonly subject: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${subject} is ${from}; it cannot become ${to}.`);
  }
}
