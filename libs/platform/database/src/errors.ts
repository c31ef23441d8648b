import { type Configuration, type DriverException, PostgreSqlDriver, PostgreSqlExceptionConverter } from '@mikro-orm/postgresql';

/**
 * Database errors without the values. MikroORM inlines parameters into the SQL it hands to knex,
 * and knex prefixes the driver's message with that SQL: a failed insert's message carried the
 * scrypt hash, the token hash or the context value it tried to write, and so did every log line
 * and stack that printed it. PostgreSQL's own `detail` ("Key (email)=(…) already exists"),
 * `where` and `internalQuery` quote values too, and some messages quote the offending input.
 *
 * So an error leaves the database layer described only by what carries no value: its class, its
 * SQLSTATE, the table, column and constraint, and which statement on which table failed.
 */
export interface DatabaseErrorDescription {
  readonly name: string;
  readonly code?: string;
  readonly table?: string;
  readonly column?: string;
  readonly constraint?: string;
  /** e.g. `insert into "users"`: the statement's verb and table, never what follows them. */
  readonly statement?: string;
  readonly message: string;
  readonly stack?: string;
}

/** SQLSTATE names worth reading in a log (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const SQLSTATE: Record<string, string> = {
  '23505': 'unique_violation',
  '23503': 'foreign_key_violation',
  '23502': 'not_null_violation',
  '23514': 'check_violation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '25P02': 'in_failed_sql_transaction',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42P01': 'undefined_table',
  '53300': 'too_many_connections',
  '54001': 'statement_too_complex',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
};

/** Properties of a driver error that may quote values: dropped from every error this layer throws. */
const VALUE_BEARING = ['detail', 'where', 'internalQuery', 'hint', 'position', 'internalPosition', 'sql', 'query', 'params', 'bindings'] as const;

const STATEMENT = /^\s*(select\b.*?\bfrom|insert into|update|delete from|with|create|alter|drop|truncate|lock table|set)\s+("[^"]{1,128}"(?:\."[^"]{1,128}")?|[\w.]{1,128})?/is;

interface DriverErrorLike {
  name?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  severity?: unknown;
  sqlState?: unknown;
  table?: unknown;
  column?: unknown;
  constraint?: unknown;
}

const isSqlState = (code: unknown): code is string => typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);

/** A description of `error` when it came from PostgreSQL (through MikroORM, knex or pg); otherwise null. */
export function describeDatabaseError(error: unknown): DatabaseErrorDescription | null {
  if (error === null || typeof error !== 'object') return null;
  const e = error as DriverErrorLike;
  const fromDriver = e.name?.endsWith('Exception') && (isSqlState(e.code) || isSqlState(e.sqlState));
  const fromPg = isSqlState(e.code) && typeof e.severity === 'string';
  if (!fromDriver && !fromPg) return null;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const code = isSqlState(e.code) ? e.code : isSqlState(e.sqlState) ? e.sqlState : undefined;
  const statementMatch = STATEMENT.exec(e.message ?? '');
  const statement = statementMatch ? [statementMatch[1].split(/\s+/)[0] === 'select' ? 'select … from' : statementMatch[1], statementMatch[2]].filter(Boolean).join(' ') : undefined;
  const described = {
    name: e.name ?? 'DatabaseError',
    code,
    table: text(e.table),
    column: text(e.column),
    constraint: text(e.constraint),
    statement: statement?.toLowerCase(),
  };
  const parts = [
    code ? `SQLSTATE ${code}${SQLSTATE[code] ? ` ${SQLSTATE[code]}` : ''}` : undefined,
    described.table ? `table ${described.table}` : undefined,
    described.column ? `column ${described.column}` : undefined,
    described.constraint ? `constraint ${described.constraint}` : undefined,
    described.statement ? `in ${described.statement}` : undefined,
  ].filter(Boolean);
  const message = `${described.name}: ${parts.join(', ') || 'database error'}`;
  const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return { ...described, message, stack: [message, ...frames].join('\n') };
}

/** Rewrites `error` in place so that nothing in it quotes a value; returns it. */
export function scrubDatabaseError<E extends object>(error: E): E {
  const described = describeDatabaseError(error);
  if (!described) return error;
  const target = error as Record<string, unknown>;
  for (const key of VALUE_BEARING) delete target[key];
  target.message = described.message.slice(described.name.length + 2);
  target.stack = described.stack;
  return error;
}

/** The pg/knex error of a unique constraint, through MikroORM or not. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as DriverErrorLike | null;
  return e !== null && typeof e === 'object' && (e.code === '23505' || e.name === 'UniqueConstraintViolationException');
}

class ScrubbingExceptionConverter extends PostgreSqlExceptionConverter {
  override convertException(exception: Error & Record<string, unknown>): DriverException {
    return scrubDatabaseError(super.convertException(exception));
  }
}

/**
 * PostgreSQL as MikroORM drives it, except that every error it raises is scrubbed at the source
 * (scrubDatabaseError): whoever logs or rethrows it later cannot leak what it wrote.
 */
export class ScrubbingPostgreSqlDriver extends PostgreSqlDriver {
  constructor(config: Configuration) {
    super(config);
    const converter = new ScrubbingExceptionConverter();
    this.platform.getExceptionConverter = () => converter;
  }
}
