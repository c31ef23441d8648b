import { Allow, IsInt, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { ApiError } from './api-error';
import { createValidationPipe } from './validation';

class InnerDto {
  @IsOptional() @Allow() body?: unknown;
  @IsOptional() @IsObject() headers?: Record<string, string>;
}

class OuterDto {
  @IsString() name!: string;
  @IsOptional() @Allow() template?: unknown;
  @IsOptional() @IsInt({ each: true }) statuses?: number[];
  @IsOptional() @ValidateNested() @Type(() => InnerDto) request?: InnerDto;
}

const pipe = createValidationPipe();
const asBody = (value: unknown, metatype: new () => unknown = OuterDto) => pipe.transform(value, { type: 'body', metatype });
const problemsOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    return ((error as ApiError).details as { fields: Array<{ field: string; message: string }> }).fields;
  }
  throw new Error('expected a validation error');
};

describe('the validation pipe', () => {
  it('keeps free-form JSON exactly as sent, keys named after Object.prototype included', async () => {
    // JSON.parse, as the body parser does: "constructor" and "prototype" are own data keys.
    const sent = JSON.parse(
      '{"name":"n","template":{"constructor":"$.a","prototype":{"constructor":{"prototype":1}},"toString":"x"},' +
        '"request":{"body":{"constructor":1,"hasOwnProperty":[],"valueOf":{"isPrototypeOf":2}},"headers":{"constructor":"v"}}}',
    );
    const out = (await asBody(structuredClone(sent))) as OuterDto;
    expect(out).toBeInstanceOf(OuterDto);
    expect(out.request).toBeInstanceOf(InnerDto);
    expect(JSON.stringify(out.template)).toBe(JSON.stringify(sent.template));
    expect(JSON.stringify(out.request!.body)).toBe(JSON.stringify(sent.request.body));
    expect(JSON.stringify(out.request!.headers)).toBe(JSON.stringify(sent.request.headers));
  });

  it('still validates a raw field with its other decorators', async () => {
    expect(await problemsOf(asBody({ name: 'n', request: { headers: 'not an object' } }))).toEqual([{ field: 'request.headers', message: 'must be an object' }]);
  });

  it('refuses a constructor value where a number belongs instead of crashing in class-transformer', async () => {
    const fields = await problemsOf(asBody(JSON.parse('{"name":"n","statuses":[{"constructor":1}]}')));
    expect(fields.map((f) => f.field)).toEqual(['statuses']);
  });

  it('answers keys named after Object.prototype where DTO fields are with a 400, never dropping them', async () => {
    for (const body of ['{"name":"n","constructor":"x"}', '{"name":"n","request":{"prototype":1}}', '{"name":"n","toString":"x"}']) {
      const fields = await problemsOf(asBody(JSON.parse(body)));
      expect(fields.length).toBe(1);
    }
  });

  it('names a hostile unknown key without building a regular expression from it', async () => {
    const key = 'k'.repeat(300_000);
    const [problem] = await problemsOf(asBody({ name: 'n', [key]: 1 }));
    expect(problem.field === key && problem.message === `property ${key} should not exist`).toBe(true);
    const [dotted] = await problemsOf(asBody({ name: 'n', 'a.*+?(': 1 }));
    expect(dotted).toEqual({ field: 'a.*+?(', message: 'property a.*+?( should not exist' });
  });
});
