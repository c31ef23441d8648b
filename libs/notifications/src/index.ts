export * from './callbacks';
export * from './topology';
