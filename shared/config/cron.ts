/** A zod type for cron expressions, so a bad schedule is a config error at start. */
import cron from 'node-cron';
import { z } from 'zod';

export const cronExpression = z.string().refine((s) => cron.validate(s), { message: 'not a valid cron expression' });
