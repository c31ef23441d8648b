export * from './orm';
export * from './errors';
export * from './position-store';
