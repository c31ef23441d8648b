import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';
import { storableParsed, storableText } from '@trigrun/execution-contracts';
import { parseFields } from '@trigrun/trigger-ingress';

/** Public bodies up to 1 MiB; larger ones answer 413 payload_too_large (docs/workflows.md, the public endpoints). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The public endpoints take whatever third parties send (docs/workflows.md): JSON is parsed (an empty
 * JSON body is `null`, as many callers send one), forms become an object, text/plain and any
 * other content type arrive as a string. Going through `useBodyParser` keeps Nest from adding its
 * own JSON and form parsers on top at init.
 *
 * This is the edge where third-party strings enter, so every body leaves here storable
 * (docs/third-party-data.md): NUL and lone surrogates become U+FFFD, in keys and values, and JSON
 * nested deeper than MAX_STORED_JSON_DEPTH is kept as its text — nothing after this point (the
 * validation pipe, JSON.stringify, jsonb) then meets a depth it would overflow on.
 */
export function registerBodyParsers(app: NestFastifyApplication, bodyLimit = MAX_BODY_BYTES): void {
  const fastify = app.getHttpAdapter().getInstance();
  // fastify's own parser: rejects __proto__ and constructor.prototype keys (prototype poisoning).
  const json = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (req, body, done) => {
    if (body.length === 0) return done(null, null);
    const text = body.toString('utf8');
    return json(req, text, (error: Error | null, parsed?: unknown) => (error ? done(error) : done(null, storableParsed(parsed, text))));
  });
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit }, (_req, body, done) => done(null, parseForm(body.toString('utf8'))));
  const asText = (_req: unknown, body: Buffer, done: (error: Error | null, body?: unknown) => void) => done(null, storableText(body.toString('utf8')));
  // fastify parses text/plain itself: replaced, so text bodies are made storable like the rest.
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('text/plain', { bodyLimit }, asText);
  app.useBodyParser('*', { bodyLimit }, asText);
}

/**
 * `a=1&b=x+y` → `{a: "1", b: "x y"}`; a repeated field becomes an array of its values. Keys are
 * defined as own properties (`__proto__` included), never assigned, so nothing reaches a prototype.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  // No field limit here: the body limit bounds it. parseFields returns undefined only past a limit.
  return parseFields(text) ?? {};
}
