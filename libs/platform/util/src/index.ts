export * from './ids';
export * from './cursor';
export * from './slot-id';
