export * from './ids';
export * from './cursor';
export * from './slot-id';
export * from './within';
export * from './domain-error';
