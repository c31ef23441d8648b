export * from './job-scheduler';
export * from './slot-id';
