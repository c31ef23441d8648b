import { PostgreSqlExceptionConverter, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { describeDatabaseError, isUniqueViolation, scrubDatabaseError } from './errors';

const SCRYPT = 'scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const TOKEN_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

/** What pg raises and knex rewrites: MikroORM inlines the parameters, knex prefixes the SQL to pg's message. */
function pgError(fields: Record<string, unknown>, sql: string, message: string) {
  const error = new Error(`${sql} - ${message}`) as Error & Record<string, unknown>;
  Object.assign(error, { name: 'error', length: 200, severity: 'ERROR', file: 'nbtinsert.c', line: '666', routine: '_bt_check_unique', ...fields });
  return error;
}

const duplicateUser = () =>
  pgError(
    { code: '23505', table: 'users', schema: 'public', constraint: 'users_email_key', detail: 'Key (email)=(ada@example.com) already exists.' },
    `insert into "users" ("id", "email", "password_hash") values ('usr_1', 'ada@example.com', '${SCRYPT}')`,
    'duplicate key value violates unique constraint "users_email_key"',
  );

const everyString = (error: object) => JSON.stringify({ ...error, message: (error as Error).message, stack: (error as Error).stack });

describe('database errors carry no values', () => {
  it('scrubs what MikroORM raises: no SQL, no parameters, no detail, in the message, the stack or any field', () => {
    const converted = new PostgreSqlExceptionConverter().convertException(duplicateUser());
    expect(everyString(converted)).toContain(SCRYPT); // what it was before
    const scrubbed = scrubDatabaseError(converted);
    const text = everyString(scrubbed);
    for (const value of [SCRYPT, 'ada@example.com', 'usr_1', 'values']) expect(text).not.toContain(value);
    expect(scrubbed).toBeInstanceOf(UniqueConstraintViolationException);
    expect(scrubbed.message).toBe('SQLSTATE 23505 unique_violation, table users, constraint users_email_key, in insert into "users"');
    expect(scrubbed.stack!.split('\n')[0]).toBe(`UniqueConstraintViolationException: ${scrubbed.message}`);
    expect(scrubbed.stack).toMatch(/\n\s+at /);
    expect(isUniqueViolation(scrubbed)).toBe(true);
  });

  it('describes errors pg raised directly and errors in raw statements the same way', () => {
    const raw = pgError({ code: '22P02', where: `JSON data, line 1: ${TOKEN_HASH}` }, `update api_tokens set token_hash = '${TOKEN_HASH}' where id = 'tok_1'`, `invalid input syntax for type json: "${TOKEN_HASH}"`);
    const described = describeDatabaseError(raw)!;
    expect(described.message).toBe('error: SQLSTATE 22P02 invalid_text_representation, in update api_tokens');
    expect(JSON.stringify(described)).not.toContain(TOKEN_HASH);
    expect(JSON.stringify(described)).not.toContain('tok_1');
    const selected = describeDatabaseError(pgError({ code: '57014' }, `select "secret" from job_context where value = 'v'`, 'canceling statement'))!;
    expect(selected.statement).toBe('select … from job_context');
  });

  it('leaves errors that are not the database alone', () => {
    expect(describeDatabaseError(new Error('boom'))).toBeNull();
    expect(describeDatabaseError({ code: 'ECONNREFUSED' })).toBeNull();
    expect(isUniqueViolation(new Error('duplicate'))).toBe(false);
  });
});
