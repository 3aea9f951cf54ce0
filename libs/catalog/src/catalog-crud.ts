import { NotFoundError, Page, PageRequest, skipTake } from '@dbaas/core';
import { translateStoreErrors } from '@dbaas/persistence';
import {
  DeepPartial,
  FindOptionsRelations,
  FindOptionsWhere,
  ObjectLiteral,
  Repository,
} from 'typeorm';

/**
 * List, detail, create, update and delete shared by the catalog resources. Authorization
 * stays with the caller (catalog writes are dba-only, checked by the controllers through
 * AccessPolicy). A duplicate name or a delete of something still referenced is a 409,
 * decided by the store's own constraints so races cannot slip through.
 */
export abstract class CatalogCrud<E extends ObjectLiteral & { id: number }> {
  protected abstract readonly resource: string;
  protected readonly relations: FindOptionsRelations<E> = {};

  constructor(protected readonly repo: Repository<E>) {}

  async list(page: PageRequest): Promise<Page<E>> {
    const [items, count] = await this.repo.findAndCount({
      relations: this.relations,
      order: { id: 'ASC' } as never,
      ...skipTake(page),
    });
    return { items, count };
  }

  async get(id: number): Promise<E> {
    const row = await this.repo.findOne({
      where: { id } as FindOptionsWhere<E>,
      relations: this.relations,
    });
    if (!row) throw new NotFoundError(this.resource, id);
    return row;
  }

  async remove(id: number): Promise<void> {
    await this.get(id);
    await translateStoreErrors(this.resource, () => this.repo.delete(id));
  }

  protected async insert(values: DeepPartial<E>): Promise<E> {
    const saved = await translateStoreErrors(this.resource, () =>
      this.repo.save(this.repo.create(values)),
    );
    return this.get(saved.id);
  }

  /** Updates the given columns; `undefined` means "leave as is". */
  protected async patch(id: number, changes: Partial<E>): Promise<E> {
    await this.get(id);
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(defined).length) {
      await translateStoreErrors(this.resource, () => this.repo.update(id, defined as never));
    }
    return this.get(id);
  }
}
