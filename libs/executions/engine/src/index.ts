export * from './attempt';
export * from './callbacks';
export * from './engine';
export * from './execution-launcher';
export * from './execution-store';
export * from './request-attempt';
export * from './topology';
