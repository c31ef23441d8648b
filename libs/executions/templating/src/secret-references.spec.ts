import { renderRequest } from './render';
import { secretReferencesIn } from './secret-references';
import { TemplateError } from './template-error';

const scope = {
  uuid: 'u-1',
  context: { env: 'prod', ref: 'secret://STRIPE_KEY', scheme: 'secret', tail: '//STRIPE_KEY', half: 'secr', other: 'et://X', multi: 'a\r\nX-Evil: 1' },
  trigger: { body: { name: 'secret://STRIPE_KEY' } },
};

const header = (value: string) => renderRequest({ url: 'https://e.com', headers: { Authorization: value } }, scope).headers.Authorization;

describe('secret:// references in header values', () => {
  it.each`
    value                                              | expected
    ${'Bearer secret://API_TOKEN'}                     | ${'Bearer secret://API_TOKEN'}
    ${'secret://USER:secret://PASS'}                   | ${'secret://USER:secret://PASS'}
    ${'Bearer secret://API_TOKEN {{uuid}}'}            | ${'Bearer secret://API_TOKEN u-1'}
    ${'{{context.env}} secret://API_TOKEN'}            | ${'prod secret://API_TOKEN'}
    ${'{{context.env}}secret://API_TOKEN'}             | ${'prodsecret://API_TOKEN'}
    ${'secret://API_TOKEN;env={{context.env}}'}        | ${'secret://API_TOKEN;env=prod'}
  `('a literal reference is copied verbatim: $value', ({ value, expected }) => {
    expect(header(value)).toBe(expected);
  });

  it.each`
    value                                   | variable
    ${'Bearer secret://{{context.env}}'}    | ${'context.env'}
    ${'Bearer secret://api_{{context.env}}'} | ${'context.env'}
    ${'secret:{{context.tail}}'}            | ${'context.tail'}
    ${'secret:/{{context.tail}}'}           | ${'context.tail'}
    ${'{{context.scheme}}://STRIPE_KEY'}    | ${'context.scheme'}
    ${'Bearer {{context.ref}}'}             | ${'context.ref'}
    ${'{{trigger.body.name}}'}              | ${'trigger.body.name'}
    ${'{{context.half}}{{context.other}}'}  | ${'context.half'}
    ${'secret://A {{context.ref}}'}         | ${'context.ref'}
  `('a template cannot build or change a reference: $value', ({ value, variable }) => {
    let error: unknown;
    try {
      header(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ variable, kind: 'secret_reference' });
    expect((error as Error).message).toContain('templates cannot build secret:// references');
  });

  it('a rendered secret:// outside header values is plain text (never substituted)', () => {
    const out = renderRequest({ url: 'https://e.com/{{context.ref}}', headers: {}, body: { a: '{{context.ref}}' } }, scope);
    expect(out.url).toBe('https://e.com/secret://STRIPE_KEY');
    expect(out.body).toEqual({ a: 'secret://STRIPE_KEY' });
  });

  it('a template cannot put a line break into a header', () => {
    expect(() => header('x {{context.multi}}')).toThrow(expect.objectContaining({ variable: 'context.multi', kind: 'header_line_break' }));
  });

  it.each`
    text                                          | names
    ${'Bearer secret://API_TOKEN'}                | ${['API_TOKEN']}
    ${'secret://a.b-c_d.e! secret://x'}           | ${['a.b-c_d.e', 'x']}
    ${'secret:// secret:/x SECRET://X'}           | ${[]}
    ${`secret://${'n'.repeat(130)}`}              | ${['n'.repeat(128)]}
  `('finds references as the shell does: $text', ({ text, names }) => {
    expect(secretReferencesIn(text)).toEqual(names);
  });
});
