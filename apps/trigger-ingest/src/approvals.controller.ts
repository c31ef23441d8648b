import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertNever } from '@trigrun/execution-domain';
import { Waitpoints } from '@trigrun/execution-waitpoints';
import { ApiError, InjectConfig, Public } from '@trigrun/nest';
import {
  REVIEW_PAGE_HEADERS,
  renderDecisionResult,
  renderErrorPage,
  renderNotFoundPage,
  renderReviewPage,
} from '@trigrun/review-page';
import { approvalUrls, conflictMessage, toApprovalJson, toReviewDecision, toReviewPage } from './approval.mapper';
import type { ServiceConfig } from './config';
import { decisionBodyOf } from './decision-body';
import { preferenceOf } from './negotiation';

const NOT_FOUND = 'Unknown or expired approval link';

/**
 * The review page of an approval step and its two decisions (docs/workflows.md). Browsers get HTML (the
 * page, and a result page after a form post); JSON clients get JSON. A GET never decides
 * anything: mail scanners prefetch links. Every answer carries the page's strict headers, as
 * the URL itself is the credential.
 */
@Public()
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(
    private readonly waitpoints: Waitpoints,
    @InjectConfig() private readonly config: Pick<ServiceConfig, 'TRIGRUN_PUBLIC_URL'>,
  ) {}

  @Get(':token')
  async review(@Param('token') token: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    void reply.headers(REVIEW_PAGE_HEADERS);
    const html = preferenceOf(req.headers.accept) !== 'json';
    const view = await this.waitpoints.describe(token);
    if (!view) {
      if (html) return sendHtml(reply, 404, renderNotFoundPage());
      throw new ApiError('not_found', NOT_FOUND);
    }
    if (html) return sendHtml(reply, 200, renderReviewPage(toReviewPage(view, approvalUrls(this.config.TRIGRUN_PUBLIC_URL, token))));
    return reply.status(200).send(toApprovalJson(view));
  }

  @Post(':token/approve')
  approve(@Param('token') token: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.decide('approved', token, body, req, reply);
  }

  @Post(':token/reject')
  reject(@Param('token') token: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.decide('rejected', token, body, req, reply);
  }

  private async decide(decision: 'approved' | 'rejected', token: string, body: unknown, req: FastifyRequest, reply: FastifyReply) {
    void reply.headers(REVIEW_PAGE_HEADERS);
    const html = wantsHtmlAfterPost(req);
    let input: ReturnType<typeof decisionBodyOf>;
    try {
      input = decisionBodyOf(body);
    } catch (error) {
      if (html && error instanceof ApiError) return sendHtml(reply, error.status, renderErrorPage({ title: 'Not recorded', message: error.message }));
      throw error;
    }
    const outcome = await this.waitpoints.decide(token, { decision, comment: input.comment, decidedBy: input.decidedBy });
    switch (outcome.kind) {
      case 'decided':
        if (html) return sendHtml(reply, 200, renderDecisionResult({ kind: 'decided', executionId: outcome.executionId, decision: toReviewDecision(outcome.decision) }));
        return reply.status(200).send({ decided: true, decision: outcome.decision.decision, execution_id: outcome.executionId });
      case 'conflict': {
        const first = outcome.first;
        if (html) return sendHtml(reply, 409, renderDecisionResult({ kind: 'conflict', executionId: outcome.executionId, first: first ? toReviewDecision(first) : null }));
        throw ApiError.conflict(conflictMessage(first), { execution_id: outcome.executionId, first_decision: first });
      }
      case 'not_found':
        if (html) return sendHtml(reply, 404, renderNotFoundPage());
        throw new ApiError('not_found', NOT_FOUND);
      default:
        return assertNever(outcome);
    }
  }
}

/**
 * After a POST: HTML for form posts and for clients that prefer it (a browser), JSON otherwise.
 * A client that explicitly prefers JSON gets JSON even when it posts a form.
 */
function wantsHtmlAfterPost(req: FastifyRequest): boolean {
  const preference = preferenceOf(req.headers.accept);
  if (preference !== 'either') return preference === 'html';
  return /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
}

function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').send(html);
}
