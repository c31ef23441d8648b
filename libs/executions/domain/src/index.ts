export * from './execution.decider';
export * from './extraction';
export * from './retry';
export {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  MAX_RECORDED_OUTPUT_LENGTH,
  type ActiveStep,
  type WorkflowAction,
  type WorkflowProgress,
  workflowDeadline,
} from './workflow';
