import { applyDecorators } from '@nestjs/common';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** A catalog name: a non-empty string of reasonable length. */
export const CatalogName = (max = 100) => applyDecorators(IsString(), IsNotEmpty(), MaxLength(max));
