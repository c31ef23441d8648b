export * from './execution-store';
export * from './execution-launcher';
export * from './park-tokens';
export * from './topology';
