import { ApiExtraModels, ApiProperty, ApiPropertyOptional, PartialType, getSchemaPath } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsDate,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { HTTP_METHODS } from '@trigrun/execution-contracts';
import { decodeCursor } from '@trigrun/util';
import type { JobCommand } from '@trigrun/jobs';

@ValidatorConstraint({ name: 'cursor' })
class IsCursor implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && decodeCursor(value) !== null;
  }
  defaultMessage(): string {
    return 'is not a cursor returned by this endpoint';
  }
}
/** ISO-8601 with a four-digit year; the time, seconds, fraction and offset are optional. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const TIMESTAMP_MESSAGE = 'must be an ISO-8601 timestamp from 0001-01-01 to 9999-12-31';
const [MIN_TIMESTAMP, MAX_TIMESTAMP] = [Date.parse('0001-01-01T00:00:00.000Z'), Date.parse('9999-12-31T23:59:59.999Z')];

/**
 * A timestamp query parameter as a Date, or left as sent (IsDate then refuses it). The range is
 * PostgreSQL's as the pg driver writes dates: year 0 and years past 9999 (`+010000-…`, which
 * JavaScript accepts up to 275760) are refused by the database, so they are a 400 here.
 */
function timestampParam({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value)) return value;
  const time = Date.parse(value);
  return Number.isFinite(time) && time >= MIN_TIMESTAMP && time <= MAX_TIMESTAMP ? new Date(time) : value;
}

import {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  EXTRACTION_NAME,
  JOB_KINDS,
  MAX_APPROVAL_MESSAGE_LENGTH,
  MAX_PARK_TIMEOUT_SECONDS,
  MAX_STEPS,
  MAX_WORKFLOW_DURATION_SECONDS,
  STEP_ID,
} from '@trigrun/job-domain';

export class RequestDto {
  @ApiProperty({ example: 'https://example.com/hooks/nightly', description: 'http or https; private addresses are refused at send time (docs/outbound-requests.md)' })
  @IsString()
  @IsNotEmpty()
  url!: string;

  @ApiPropertyOptional({ enum: HTTP_METHODS, default: 'GET' }) @IsOptional() @IsIn(HTTP_METHODS) method?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'values may contain secret://name' })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'sent as-is: strings raw, anything else as JSON' }) @IsOptional() @Allow() body?: unknown;

  @ApiPropertyOptional({ minimum: 1, maximum: 300, default: 30 }) @IsOptional() @IsInt() @Min(1) @Max(300) timeout_seconds?: number;

  @ApiPropertyOptional({ type: [Number], default: [200, 201, 202, 204] })
  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  success_statuses?: number[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'rules the response must pass besides success_statuses (docs/jobs.md, response matching)' })
  @IsOptional()
  @IsObject()
  response_matcher?: Record<string, unknown>;
}

export class PatchRequestDto extends PartialType(RequestDto) {}

export class RetryPolicyDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 10, default: 3 }) @IsOptional() @IsInt() @Min(1) @Max(10) max_attempts?: number;
  @ApiPropertyOptional({ type: [Number], default: [429, 500, 502, 503, 504] })
  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  retry_on_statuses?: number[];
}

/*
 * Step schemas document `steps[]` in /openapi.json only: the steps are validated by the job
 * domain's normalizeSteps, which reports every problem with its step path (`steps[2].url`).
 */
const EXTRACTION_SCHEMA = {
  type: 'object',
  propertyNames: { pattern: EXTRACTION_NAME.source },
  additionalProperties: { type: 'string', description: 'a JSONPath: $.a.b, $.items[0], $[\'key\'], $.items[*]' },
} as const;

abstract class StepDto {
  @ApiProperty({ pattern: STEP_ID.source, example: 'create-order', description: 'unique in the job' }) id!: string;
  @ApiPropertyOptional({
    ...EXTRACTION_SCHEMA,
    description: "name → JSONPath read from the step's result (http: the response body; wait_for_webhook: the resume payload; approval: {decision, comment, decided_by, decided_at}) into the execution's context",
    example: { order_id: '$.order.id' },
  })
  extract?: Record<string, string>;
  @ApiPropertyOptional({ ...EXTRACTION_SCHEMA, description: "as extract, and also written to the job's persisted context store" })
  extract_to_context?: Record<string, string>;
}

export class HttpStepDto extends StepDto {
  @ApiProperty({ enum: ['http'] }) type!: 'http';
  @ApiProperty({ example: 'https://example.com/orders/{{context.order_id}}', description: 'templates: context.*, trigger.*, timestamp, uuid, execution_id' })
  url!: string;
  @ApiPropertyOptional({ enum: HTTP_METHODS, default: 'GET' }) method?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, default: {} }) headers?: Record<string, string>;
  @ApiPropertyOptional({ description: 'sent as-is: strings raw, anything else as JSON; a string leaf that is exactly one {{…}} keeps its JSON type' }) body?: unknown;
  @ApiPropertyOptional({ minimum: 1, maximum: 300, default: 30 }) timeout_seconds?: number;
  @ApiPropertyOptional({ type: [Number], default: [200, 201, 202, 204] }) success_statuses?: number[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'rules the response must pass besides success_statuses (docs/jobs.md, response matching)' }) response_matcher?: Record<string, unknown>;
  @ApiPropertyOptional({ type: () => RetryPolicyDto }) retry_policy?: RetryPolicyDto;
}

export class WaitForWebhookStepDto extends StepDto {
  @ApiProperty({ enum: ['wait_for_webhook'] }) type!: 'wait_for_webhook';
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PARK_TIMEOUT_SECONDS, nullable: true, default: null, description: 'null: the rest of the workflow duration' })
  timeout_seconds?: number | null;
  @ApiPropertyOptional({ enum: ['fail', 'continue'], default: 'fail' }) on_timeout?: string;
}

export class ApprovalStepDto extends StepDto {
  @ApiProperty({ enum: ['approval'] }) type!: 'approval';
  @ApiProperty({ maxLength: MAX_APPROVAL_MESSAGE_LENGTH, description: 'shown to the reviewer; templates: context.*, trigger.*, timestamp, uuid, execution_id' })
  message!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PARK_TIMEOUT_SECONDS, nullable: true, default: null, description: 'null: the rest of the workflow duration' })
  timeout_seconds?: number | null;
  @ApiPropertyOptional({ enum: ['reject', 'approve'], default: 'reject' }) on_timeout?: string;
}

const STEP_SCHEMA = {
  oneOf: [HttpStepDto, WaitForWebhookStepDto, ApprovalStepDto].map((dto) => ({ $ref: getSchemaPath(dto) })),
  discriminator: {
    propertyName: 'type',
    mapping: { http: getSchemaPath(HttpStepDto), wait_for_webhook: getSchemaPath(WaitForWebhookStepDto), approval: getSchemaPath(ApprovalStepDto) },
  },
};

@ApiExtraModels(HttpStepDto, WaitForWebhookStepDto, ApprovalStepDto)
export class CreateJobDto {
  @ApiProperty({ example: 'nightly backup' }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ enum: JOB_KINDS, description: 'webhook_trigger is not available in this version yet' }) @IsIn(JOB_KINDS) kind!: string;
  @ApiPropertyOptional({ enum: ['active', 'draft'], default: 'active' }) @IsOptional() @IsIn(['active', 'draft']) state?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'recurring: {every_n_minutes}; cron: {cron, timezone?}; scheduled: {run_at}; workflow: one of those three, or none (runs only on run-now)',
  })
  @IsOptional()
  @IsObject()
  schedule?: Record<string, unknown>;
  @ApiPropertyOptional({ type: RequestDto, description: 'request kinds only' }) @IsOptional() @ValidateNested() @Type(() => RequestDto) request?: RequestDto;
  @ApiPropertyOptional({ type: 'array', items: STEP_SCHEMA, maxItems: MAX_STEPS, description: 'workflow jobs only: the steps, run in order' })
  @IsOptional()
  @IsArray()
  steps?: unknown[];
  @ApiPropertyOptional({ type: RetryPolicyDto, description: "request kinds: the request's retries; every kind: the on_success_url/on_failure_url callbacks' retries" })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retry_policy?: RetryPolicyDto;
  @ApiPropertyOptional({ minimum: 0, maximum: 1000, description: '0 = unlimited; default 0 for request kinds, 1 for workflows' })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_concurrent_executions?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_WORKFLOW_DURATION_SECONDS, default: DEFAULT_WORKFLOW_DURATION_SECONDS, description: 'workflow jobs only' })
  @IsOptional()
  @IsInt()
  max_workflow_duration_seconds?: number;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() on_success_url?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() on_failure_url?: string | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "$.path leaves read the final response body (a workflow's: the last step's output); other strings are templates (docs/jobs.md)",
  })
  @IsOptional()
  @Allow()
  response_output_template?: unknown;
}

/**
 * The jobs service's command from a create or update body: the top-level fields renamed to
 * camelCase, nothing else touched (nested specs keep their JSON shape; a field left out stays
 * undefined, so an update leaves it alone).
 */
export function jobCommandOf(body: CreateJobDto | UpdateJobDto): JobCommand {
  return {
    name: body.name,
    kind: body.kind,
    state: body.state,
    schedule: body.schedule,
    request: body.request,
    steps: body.steps,
    retryPolicy: body.retry_policy,
    maxConcurrentExecutions: body.max_concurrent_executions,
    maxWorkflowDurationSeconds: body.max_workflow_duration_seconds,
    onSuccessUrl: body.on_success_url,
    onFailureUrl: body.on_failure_url,
    responseOutputTemplate: body.response_output_template,
  };
}

export class UpdateJobDto extends PartialType(CreateJobDto) {
  @ApiPropertyOptional({ type: PatchRequestDto, description: 'merged key by key into the current request' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PatchRequestDto)
  declare request?: PatchRequestDto & RequestDto;
}

export class JobContextDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { last_order_id: 'ord_123' } }) context!: Record<string, string>;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null while nothing was ever stored' }) updated_at!: string | null;
}

export class ListQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' }) @IsOptional() @IsString() @Validate(IsCursor) cursor?: string;
}

export class ListJobsQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'paused', 'draft', 'completed'] }) @IsOptional() @IsIn(['active', 'paused', 'draft', 'completed']) state?: string;
  @ApiPropertyOptional({ enum: JOB_KINDS }) @IsOptional() @IsIn(JOB_KINDS) kind?: string;
}

export class ListExecutionsQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: ['queued', 'running', 'waiting', 'succeeded', 'failed'] })
  @IsOptional()
  @IsIn(['queued', 'running', 'waiting', 'succeeded', 'failed'])
  status?: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed';
  @ApiPropertyOptional() @IsOptional() @IsString() job_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() job_name?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'queued at or after' }) @IsOptional() @Transform(timestampParam) @IsDate({ message: TIMESTAMP_MESSAGE }) from?: Date;
  @ApiPropertyOptional({ format: 'date-time', description: 'queued before' }) @IsOptional() @Transform(timestampParam) @IsDate({ message: TIMESTAMP_MESSAGE }) to?: Date;
}
