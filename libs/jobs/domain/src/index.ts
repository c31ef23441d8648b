export * from './job-definition';
export * from './job-fields';
export * from './workflow-steps';
export * from './job-context';
