export * from './execution.decider';
export * from './extraction';
export * from './retry';
export {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  MAX_RECORDED_OUTPUT_LENGTH,
  type ActiveStep,
  type PlanStep,
  type RenderedRequest,
  type RequestStep,
  type SendingStep,
  type WorkflowAction,
  type WorkflowProgress,
  requestStepOf,
  workflowDeadline,
} from './workflow';
