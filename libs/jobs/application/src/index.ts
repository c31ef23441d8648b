import { JobSchema } from './job.entity';

export * from './job.entity';
export * from './jobs.service';
export const JOB_ENTITIES = [JobSchema];
