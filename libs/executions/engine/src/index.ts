export * from './attempt';
export * from './engine';
export * from './request-attempt';
export * from './step-attempt';
export * from './topology';
