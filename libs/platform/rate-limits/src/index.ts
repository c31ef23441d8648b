export * from './client-address';
export * from './limit';
export * from './rate-limits';
