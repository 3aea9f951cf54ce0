import { ValidationFailedError } from '@dbaas/core';
import { In, ObjectLiteral, Repository } from 'typeorm';

/** Loads every referenced row, or fails validation on `field` naming the missing ids. */
export async function requireAll<E extends ObjectLiteral & { id: number }>(
  repo: Repository<E>,
  resource: string,
  field: string,
  ids: number[],
): Promise<E[]> {
  const unique = [...new Set(ids)];
  const found = unique.length ? await repo.findBy({ id: In(unique) } as never) : [];
  const missing = unique.filter((id) => !found.some((row) => row.id === id));
  if (missing.length) {
    throw new ValidationFailedError({ [field]: [`no ${resource} with id ${missing.join(', ')}`] });
  }
  return found;
}

/** Loads one referenced row, or fails validation on `field`. */
export async function requireOne<E extends ObjectLiteral & { id: number }>(
  repo: Repository<E>,
  resource: string,
  field: string,
  id: number,
): Promise<E> {
  const [row] = await requireAll(repo, resource, field, [id]);
  return row;
}
