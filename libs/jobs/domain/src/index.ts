export * from './job-definition';
