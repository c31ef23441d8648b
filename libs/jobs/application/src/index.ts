import { JobSchema } from './job.entity';

export * from './job.entity';
export * from './jobs.service';
export * from './job-outbox';
export * from './job-outbox.relay';
export * from './job-context.store';
export * from './job-context.service';
export * from './job-table';
export * from './jobs.reaction';
export * from './jobs.topology';
export * from './queued-execution';
export const JOB_ENTITIES = [JobSchema];
