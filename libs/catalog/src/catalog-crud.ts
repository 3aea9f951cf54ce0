import { NotFoundError, Page, PageRequest } from '@dbaas/core';
import { CatalogTable } from './catalog-table.repository';

/**
 * List, detail, create, update and delete shared by the catalog services, over their
 * table's repository. Authorization stays with the caller (catalog writes are dba-only,
 * checked by the controllers through AccessPolicy). A duplicate name or a delete of
 * something still referenced is a 409 (see CatalogTable).
 */
export abstract class CatalogCrud<Model extends { id: number }, Write extends object> {
  constructor(protected readonly table: CatalogTable<Model, Write>) {}

  list(page: PageRequest): Promise<Page<Model>> {
    return this.table.listPage(page);
  }

  async get(id: number): Promise<Model> {
    const row = await this.table.findById(id);
    if (!row) throw new NotFoundError(this.table.resource, id);
    return row;
  }

  async remove(id: number): Promise<void> {
    await this.get(id);
    await this.table.delete(id);
  }

  protected async insert(values: Write): Promise<Model> {
    return this.get(await this.table.insert(values));
  }

  /** Updates the given fields; `undefined` means "leave as is". */
  protected async patch(id: number, changes: Partial<Write>): Promise<Model> {
    await this.get(id);
    await this.table.update(id, changes);
    return this.get(id);
  }
}
