export * from './connection';
export * from './consumer';
export * from './event-store';
export * from './fair-admission';
export * from './reply-dispatch';
export * from './streams';
export * from './write-coalescing';
