export * from './scratch-database';
export * from './tcp-relay';
