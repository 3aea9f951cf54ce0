import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Whether the metadata store answers at all: no table, just a round trip. */
@Injectable()
export class StorePingRepository {
  constructor(@InjectDataSource() private readonly store: DataSource) {}

  async ping(): Promise<void> {
    await this.store.query('SELECT 1');
  }
}
