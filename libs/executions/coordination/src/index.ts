export * from './concurrency-slots';
export * from './execution-timers';
export * from './sweeper';
