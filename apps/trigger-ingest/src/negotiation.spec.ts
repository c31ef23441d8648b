import { preferenceOf } from './negotiation';

describe('preferenceOf', () => {
  it.each`
    accept                                                                          | preference
    ${undefined}                                                                    | ${'either'}
    ${''}                                                                           | ${'either'}
    ${'*/*'}                                                                        | ${'either'}
    ${'image/png'}                                                                  | ${'either'}
    ${'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'}            | ${'html'}
    ${'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8'} | ${'html'}
    ${'application/json'}                                                           | ${'json'}
    ${'application/json, text/plain, */*'}                                          | ${'json'}
    ${'text/*'}                                                                     | ${'html'}
    ${'text/html;q=0.5, application/json'}                                          | ${'json'}
    ${'application/json;q=0.5, text/html'}                                          | ${'html'}
    ${'application/json, text/html'}                                                | ${'json'}
    ${'text/html, application/json'}                                                | ${'html'}
    ${'TEXT/HTML'}                                                                  | ${'html'}
    ${'*/*;q=0.1, application/json;q=0'}                                            | ${'html'}
    ${'text/html;q=0, application/json;q=0'}                                        | ${'either'}
    ${'application/json;q=bogus, text/html;q=0.2'}                                  | ${'html'}
  `('$accept → $preference', ({ accept, preference }) => {
    expect(preferenceOf(accept)).toBe(preference);
  });
});
