import { OperationsModule } from '@dbaas/operations';
import { IdempotencyKeyEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { IdempotencyService } from './idempotency.service';

/** `Idempotency-Key` on POST: the stored claims and answers (see IdempotencyService). */
@Module({
  imports: [OperationsModule, TypeOrmModule.forFeature([IdempotencyKeyEntity])],
  providers: [IdempotencyKeyRepository, IdempotencyService],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
