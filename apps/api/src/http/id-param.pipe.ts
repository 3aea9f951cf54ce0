import { NotFoundError } from '@dbaas/core';
import { Injectable, Param, PipeTransform } from '@nestjs/common';

/** A path id that is not a positive 32-bit integer names nothing: 404, not 400 or 500. */
@Injectable()
export class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    const id = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!(id >= 1 && id <= 2_147_483_647)) throw new NotFoundError('resource');
    return id;
  }
}

/** `@IdParam() id: number` for the `:id` path segment. */
export const IdParam = () => Param('id', IdPipe);
