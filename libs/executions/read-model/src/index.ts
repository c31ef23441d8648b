import { ExecutionRowSchema } from './execution.row';

export * from './execution.projection';
export * from './execution.projector';
export * from './execution.queries';
export * from './execution.row';
export const EXECUTION_READ_MODEL_ENTITIES = [ExecutionRowSchema];
