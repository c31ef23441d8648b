export * from './events';
export * from './model';
export * from './subjects';
export * from './validate';
export * from './callbacks';
export * from './third-party-data';
export * from './drive';
