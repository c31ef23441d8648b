import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
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

@ValidatorConstraint({ name: 'cursor' })
class IsCursor implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && decodeCursor(value) !== null;
  }
  defaultMessage(): string {
    return 'is not a cursor returned by this endpoint';
  }
}
import { JOB_KINDS } from '@trigrun/job-domain';

export class RequestDto {
  @ApiProperty({ example: 'https://example.com/hooks/nightly', description: 'http or https; private addresses are refused at send time (SPEC §14)' })
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

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'SPEC §5 (not yet supported by this version)' })
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

export class CreateJobDto {
  @ApiProperty({ example: 'nightly backup' }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ enum: JOB_KINDS }) @IsIn(JOB_KINDS) kind!: string;
  @ApiPropertyOptional({ enum: ['active', 'draft'], default: 'active' }) @IsOptional() @IsIn(['active', 'draft']) state?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) @IsOptional() @IsObject() schedule?: Record<string, unknown>;
  @ApiPropertyOptional({ type: RequestDto }) @IsOptional() @ValidateNested() @Type(() => RequestDto) request?: RequestDto;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) @IsOptional() @IsArray() steps?: unknown[];
  @ApiPropertyOptional({ type: RetryPolicyDto }) @IsOptional() @ValidateNested() @Type(() => RetryPolicyDto) retry_policy?: RetryPolicyDto;
  @ApiPropertyOptional({ minimum: 0, description: '0 = unlimited (default for request kinds)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_concurrent_executions?: number;
  @ApiPropertyOptional({ maximum: 7200 }) @IsOptional() @IsInt() max_workflow_duration_seconds?: number;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() on_success_url?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() on_failure_url?: string | null;
  @ApiPropertyOptional({ description: 'SPEC §5 (not yet supported by this version)' }) @IsOptional() @Allow() response_output_template?: unknown;
}

export class UpdateJobDto extends PartialType(CreateJobDto) {
  @ApiPropertyOptional({ type: PatchRequestDto, description: 'merged key by key into the current request' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PatchRequestDto)
  declare request?: PatchRequestDto & RequestDto;
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
  @ApiPropertyOptional({ format: 'date-time', description: 'queued at or after' }) @IsOptional() @Type(() => Date) @IsDate({ message: 'must be an ISO-8601 timestamp' }) from?: Date;
  @ApiPropertyOptional({ format: 'date-time', description: 'queued before' }) @IsOptional() @Type(() => Date) @IsDate({ message: 'must be an ISO-8601 timestamp' }) to?: Date;
}
