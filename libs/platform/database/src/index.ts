export * from './orm';
export * from './errors';
