export * from './execution.projection';
export * from './execution.projector';
export * from './execution.queries';
export * from './waiting-payload';
export * from './topology';
