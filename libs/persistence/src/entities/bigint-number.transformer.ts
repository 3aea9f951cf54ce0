import { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint arrives as a string; sizes fit comfortably in a JS number. */
export const bigintNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | null) => (value === null || value === undefined ? value : Number(value)),
};
