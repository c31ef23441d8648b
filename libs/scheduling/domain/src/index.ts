export { CronSyntaxError, nextCronOccurrence, parseCron } from './cron';
export type { CronExpression, CronField } from './cron';
export { DEFAULT_TIMEZONE, EVERY_N_MINUTES_MAX, EVERY_N_MINUTES_MIN, nextRunAt, normalizeSchedule } from './schedule';
export type { NormalizedSchedule, Problem, ScheduledKind } from './schedule';
export { isValidTimezone } from './time-zone';
