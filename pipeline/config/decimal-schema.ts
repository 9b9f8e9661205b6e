import { z } from 'zod';

/** Money and rates as decimal text: never binary floating point. */
export const decimalSchema = z
  .union([z.string(), z.number().int()])
  .transform((v) => String(v))
  .refine((v) => /^\d+(\.\d+)?$/.test(v), { error: 'must be a non-negative decimal written as text, e.g. "0.0125"' });
