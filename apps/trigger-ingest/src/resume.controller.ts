import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { assertNever } from '@trigrun/execution-domain';
import { MAX_RESUME_PAYLOAD_BYTES, Waitpoints } from '@trigrun/execution-waitpoints';
import { AcceptsAnyText, ApiError, Public } from '@trigrun/nest';

/**
 * The resume URL of a parked `wait_for_webhook` step (docs/workflows.md). Its body becomes the step's output,
 * in its storable form (body-parsers.ts, docs/third-party-data.md).
 */
@Public()
@Controller('v1/resume')
export class ResumeController {
  constructor(private readonly waitpoints: Waitpoints) {}

  @Post(':token')
  @HttpCode(200)
  // Any body at all (README): the payload is stored as the step's output by the execution layer.
  @AcceptsAnyText()
  async resume(@Param('token') token: string, @Body() body: unknown) {
    const outcome = await this.waitpoints.resume(token, body ?? null);
    switch (outcome.kind) {
      case 'resumed':
        return { resumed: true, execution_id: outcome.executionId };
      case 'already_completed':
        return { resumed: false, status: 'already_completed' };
      case 'not_found':
        throw new ApiError('not_found', 'Unknown or expired resume link');
      case 'too_large':
        throw new ApiError('payload_too_large', `A resume payload is stored with the execution: at most ${MAX_RESUME_PAYLOAD_BYTES / 1024} KiB as JSON`);
      case 'unstorable':
        // Nothing was recorded: the step still waits, and the same link can be called again.
        throw new ApiError('payload_too_large', 'This resume payload cannot be recorded with the execution (docs/third-party-data.md); nothing changed', {
          reason: outcome.reason,
        });
      default:
        return assertNever(outcome);
    }
  }
}
