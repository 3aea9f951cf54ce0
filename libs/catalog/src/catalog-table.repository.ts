import { Page, PageRequest, skipTake } from '@dbaas/core';
import { requireAll, translateStoreErrors } from '@dbaas/persistence';
import {
  DeepPartial,
  FindOptionsRelations,
  FindOptionsWhere,
  ObjectLiteral,
  Repository,
} from 'typeorm';

/** What a catalog service asks of its table (see CatalogTableRepository). */
export interface CatalogTable<Model extends { id: number }, Write extends object> {
  readonly resource: string;
  listPage(page: PageRequest): Promise<Page<Model>>;
  findById(id: number): Promise<Model | null>;
  insert(values: Write): Promise<number>;
  update(id: number, changes: Partial<Write>): Promise<void>;
  delete(id: number): Promise<void>;
}

/**
 * The statements every catalog table has: a page in id order, one row, insert, update,
 * delete, and the check that referenced ids exist. Rows leave as read models (`toModel`);
 * writes come in as the table's write model (`toRow`). A duplicate name, or a delete of a
 * row still referenced, is a ConflictError (409), decided by the store's own constraints so
 * that races cannot slip through.
 */
export abstract class CatalogTableRepository<
  E extends ObjectLiteral & { id: number },
  Model extends { id: number },
  Write extends object,
> implements CatalogTable<Model, Write> {
  /** The resource name in messages (`plan`: "no plan with id 3"). */
  abstract readonly resource: string;
  /** What a read model needs loaded with the row. */
  protected readonly relations: FindOptionsRelations<E> = {};

  constructor(protected readonly repo: Repository<E>) {}

  protected abstract toModel(row: E): Model;
  protected abstract toRow(values: Partial<Write>): DeepPartial<E>;

  async listPage(page: PageRequest): Promise<Page<Model>> {
    const [rows, count] = await this.repo.findAndCount({
      relations: this.relations,
      order: { id: 'ASC' } as never,
      ...skipTake(page),
    });
    return { items: rows.map((row) => this.toModel(row)), count };
  }

  async findById(id: number): Promise<Model | null> {
    const row = await this.repo.findOne({
      where: { id } as FindOptionsWhere<E>,
      relations: this.relations,
    });
    return row ? this.toModel(row) : null;
  }

  /** Inserts a row; answers its id. */
  async insert(values: Write): Promise<number> {
    const saved = await translateStoreErrors(this.resource, () =>
      this.repo.save(this.repo.create(this.toRow(values))),
    );
    return saved.id;
  }

  /** Sets the given columns; `undefined` means "leave as is". */
  async update(id: number, changes: Partial<Write>): Promise<void> {
    const columns = definedOnly(this.toRow(changes));
    if (!Object.keys(columns).length) return;
    await translateStoreErrors(this.resource, () => this.repo.update(id, columns as never));
  }

  async delete(id: number): Promise<void> {
    await translateStoreErrors(this.resource, () => this.repo.delete(id));
  }

  /** Fails validation on `field` ("no engine with id 7") unless every id has a row. */
  async requireExisting(field: string, ids: number[]): Promise<void> {
    await requireAll(this.repo, this.resource, field, ids);
  }
}

/** The object without its `undefined` properties. */
export function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
