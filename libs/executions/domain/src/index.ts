export * from './execution.decider';
export * from './extraction';
export * from './retry';
export {
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
