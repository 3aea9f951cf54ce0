import { ConflictError } from '@dbaas/core';
import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';
/** A foreign key points at a missing row, or a RESTRICT reference blocks a delete. */
const REFERENCE_VIOLATIONS = ['23503', '23001'];

function pgCode(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  return (error.driverError as { code?: string } | undefined)?.code;
}

/**
 * Turns the store's own integrity checks into domain conflicts, so that two requests
 * racing for one name, or a delete of something still referenced, get a 409.
 */
export async function translateStoreErrors<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = pgCode(error);
    if (code === UNIQUE_VIOLATION)
      throw new ConflictError(`A ${what} with that name already exists.`);
    if (code && REFERENCE_VIOLATIONS.includes(code)) {
      throw new ConflictError(`This ${what} is still in use by other objects; remove those first.`);
    }
    throw error;
  }
}
