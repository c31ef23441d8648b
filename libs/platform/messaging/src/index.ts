export * from './connection';
export * from './consumer';
export * from './event-store';
export * from './streams';
export * from './write-coalescing';
