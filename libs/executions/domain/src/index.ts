export * from './execution.decider';
export * from './retry';
