import { type ArgumentMetadata, type Type, ValidationPipe, type ValidationError } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import { ApiError, type FieldProblem } from './api-error';

/** Flattens class-validator's tree into `a.b[0].c`-style paths, one entry per problem. */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      // startsWith, not a RegExp built from the name: a hostile 300 KB key made "regular expression too large" a 500.
      out.push({ field: path, message: message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message });
    }
    if (error.children?.length) out.push(...fieldProblems(error.children, path));
  }
  return out;
}

/** Keys that are never a DTO's field: refused by name where a DTO's fields are (data may use them freely). */
const NOT_A_FIELD = new Set(['constructor', 'prototype', '__proto__']);

/** An array, or an object whose prototype is an Object.prototype (of any realm) or null: what JSON.parse makes. */
const isPlainValue = (value: unknown): value is object => {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
};

/** `value` with every own `constructor` key of its plain objects left out (copies only what changes). */
function withoutConstructorKeys(value: unknown, depth = 0): unknown {
  // The hostile-input guard has refused anything deeper long before this.
  if (!isPlainValue(value) || depth > 128) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => withoutConstructorKeys(item, depth + 1));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  let changed = Object.prototype.hasOwnProperty.call(value, 'constructor');
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'constructor') continue;
    out[key] = withoutConstructorKeys(item, depth + 1);
    if (out[key] !== item) changed = true;
  }
  return changed ? out : value;
}

const isDto = (value: unknown): boolean => value !== null && typeof value === 'object' && !(value instanceof Date) && !isPlainValue(value);

/**
 * Puts the values of `sent` back into `entity` wherever class-transformer built no DTO: plain
 * values arrive exactly as sent. Primitives keep what class-transformer made of them (a query
 * `limit` as a number, a timestamp as a Date); keys it skipped come back too, so an unknown one is
 * still refused by the whitelist.
 */
function restoreSent(entity: Record<string, unknown>, sent: Record<string, unknown>, path: string, depth = 0): void {
  if (depth > 32) return;
  for (const key of Object.keys(sent)) {
    const at = path ? `${path}.${key}` : key;
    if (NOT_A_FIELD.has(key)) throw ApiError.validation([{ field: at, message: 'is not a known field' }]);
    const made = entity[key];
    const value = sent[key];
    if (isDto(made) && isPlainValue(value) && !Array.isArray(value)) restoreSent(made as Record<string, unknown>, value as Record<string, unknown>, at, depth + 1);
    else if (Array.isArray(made) && made.some(isDto) && Array.isArray(value)) {
      made.forEach((item, i) => {
        if (isDto(item) && isPlainValue(value[i])) restoreSent(item as Record<string, unknown>, value[i] as Record<string, unknown>, `${at}[${i}]`, depth + 1);
      });
    } else if (isPlainValue(value) || !Object.prototype.hasOwnProperty.call(entity, key)) entity[key] = value;
  }
}

/**
 * class-transformer with data kept as sent. Left alone, a `{"constructor": 1}` anywhere in a body
 * made class-transformer call `new 1()` (a 500), and a `constructor` key was dropped from copied
 * values (Nest's ValidationPipe also deleted every `constructor` and `prototype` key, at any
 * depth, to shield class-transformer). Here class-transformer sees the body without those keys,
 * and the values it copied are replaced by the ones sent.
 */
export const faithfulTransformer = {
  plainToInstance<T>(metatype: Type<T>, plain: unknown, options?: classTransformer.ClassTransformOptions): T | T[] {
    const entity = classTransformer.plainToInstance(metatype, withoutConstructorKeys(plain), options) as T | T[];
    if (isDto(entity) && isPlainValue(plain) && !Array.isArray(plain)) restoreSent(entity as Record<string, unknown>, plain as Record<string, unknown>, '');
    return entity;
  },
  classToPlain: classTransformer.instanceToPlain,
};

/** A body with a DTO must be a JSON object: null, arrays and scalars are a 400, not an empty update. */
class BodyValidationPipe extends ValidationPipe {
  /** Nothing is stripped: `__proto__` never gets past the JSON parser, and the rest is data (see faithfulTransformer). */
  protected override stripProtoKeys(): void {
    // deliberately empty
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
        throw ApiError.validation([{ field: 'body', message: 'must be a JSON object' }], 'The request body must be a JSON object');
      }
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new BodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformerPackage: faithfulTransformer,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => ApiError.validation(fieldProblems(errors)),
  });
}
