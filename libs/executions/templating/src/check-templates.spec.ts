import { checkRequestTemplates, checkTemplates, REQUEST_JOB_VARIABLES, templateVariables, WORKFLOW_VARIABLES } from './check-templates';

describe('templateVariables', () => {
  it.each`
    value                                                                    | expected
    ${'plain'}                                                               | ${[]}
    ${'{{ uuid }}-{{timestamp}}-{{uuid}}'}                                   | ${['uuid', 'timestamp']}
    ${{ '{{key}}': '{{context.a}}', b: ['{{trigger.body.x}}', 1, null] }}    | ${['context.a', 'trigger.body.x']}
    ${{ a: '{{ not valid }}', b: '{{ok}}' }}                                 | ${['ok']}
    ${42}                                                                    | ${[]}
    ${undefined}                                                             | ${[]}
  `('$value -> $expected', ({ value, expected }) => {
    expect(templateVariables(value)).toEqual(expected);
  });
});

describe('checkTemplates', () => {
  it('accepts the execution variables in request jobs and the roots in workflows', () => {
    expect(checkTemplates({ a: '{{timestamp}} {{uuid}} {{execution_id}}' }, REQUEST_JOB_VARIABLES, 'request.body')).toEqual([]);
    expect(checkTemplates(['{{context}}', '{{trigger.headers.x-source}}', '{{context.items.0.id}}'], WORKFLOW_VARIABLES, 'steps[0].body')).toEqual([]);
  });

  it.each`
    value                                | allowed                  | at                 | field                           | message
    ${'{{context.x}}'}                   | ${REQUEST_JOB_VARIABLES} | ${'request.url'}   | ${'request.url'}                | ${'unknown template variable "context.x"; allowed: timestamp, uuid, execution_id'}
    ${'{{ts}}'}                          | ${WORKFLOW_VARIABLES}    | ${'steps[1].url'}  | ${'steps[1].url'}               | ${'unknown template variable "ts"; allowed: timestamp, uuid, execution_id, context.*, trigger.*'}
    ${'{{uuid.x}}'}                      | ${REQUEST_JOB_VARIABLES} | ${'request.url'}   | ${'request.url'}                | ${'unknown template variable "uuid.x"; allowed: timestamp, uuid, execution_id'}
    ${{ items: [{ name: '{{nope}}' }] }} | ${REQUEST_JOB_VARIABLES} | ${'request.body'}  | ${'request.body.items[0].name'} | ${'unknown template variable "nope"; allowed: timestamp, uuid, execution_id'}
    ${{ a: { b: '{{ a b }}' } }}         | ${WORKFLOW_VARIABLES}    | ${'request.body'}  | ${'request.body.a.b'}           | ${'invalid template "{{ a b }}": a template holds one variable path (letters, digits, _ and -, joined by dots)'}
    ${'{{trigger.body.__proto__}}'}      | ${WORKFLOW_VARIABLES}    | ${'steps[0].body'} | ${'steps[0].body'}              | ${'template variable "trigger.body.__proto__" uses the reserved name "__proto__"'}
    ${'{{context.constructor.name}}'}    | ${WORKFLOW_VARIABLES}    | ${'steps[0].body'} | ${'steps[0].body'}              | ${'template variable "context.constructor.name" uses the reserved name "constructor"'}
    ${'{{constructor.name}}'}            | ${WORKFLOW_VARIABLES}    | ${'steps[0].body'} | ${'steps[0].body'}              | ${'template variable "constructor.name" uses the reserved name "constructor"'}
    ${'Bearer secret://{{context.env}}'} | ${WORKFLOW_VARIABLES}    | ${'h'}             | ${'h'}                          | ${'templates cannot build secret:// references'}
    ${'secret://api_{{uuid}}'}           | ${WORKFLOW_VARIABLES}    | ${'h'}             | ${'h'}                          | ${'templates cannot build secret:// references'}
    ${'secret:/{{uuid}}'}                | ${WORKFLOW_VARIABLES}    | ${'h'}             | ${'h'}                          | ${'templates cannot build secret:// references'}
    ${'{{context.scheme}}://x'}          | ${WORKFLOW_VARIABLES}    | ${'h'}             | ${'h'}                          | ${'templates cannot build secret:// references'}
  `('$field: $message', ({ value, allowed, at, field, message }) => {
    expect(checkTemplates(value, allowed, at)).toEqual([{ field, message }]);
  });

  it('reports every distinct problem of a string once', () => {
    expect(checkTemplates('{{a}} {{a}} {{b}}', REQUEST_JOB_VARIABLES, 'request.url').map((p) => p.message)).toEqual([
      'unknown template variable "a"; allowed: timestamp, uuid, execution_id',
      'unknown template variable "b"; allowed: timestamp, uuid, execution_id',
    ]);
  });

  it('allows a separated secret:// reference next to a template', () => {
    expect(checkTemplates('secret://API_TOKEN {{uuid}}', REQUEST_JOB_VARIABLES, 'h')).toEqual([]);
    expect(checkTemplates('{{uuid}} secret://API_TOKEN', REQUEST_JOB_VARIABLES, 'h')).toEqual([]);
  });

  it('refuses JSON nested deeper than it will walk', () => {
    let deep: unknown = '{{uuid}}';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(checkTemplates(deep, REQUEST_JOB_VARIABLES, 'request.body')).toEqual([
      { field: `request.body${'[0]'.repeat(64)}`, message: 'is nested too deeply (at most 64 levels)' },
    ]);
  });
});

describe('checkRequestTemplates', () => {
  it('checks url, header values (not names) and body with their field paths', () => {
    const request = {
      url: 'https://e.com/{{a}}',
      headers: { 'X-Id': '{{b}}', '{{not-checked}}': 'x', Authorization: 'Bearer secret://{{uuid}}' },
      body: { items: [{ name: '{{c}}' }], '{{key}}': 1 },
    };
    expect(checkRequestTemplates(request, REQUEST_JOB_VARIABLES, 'request')).toEqual([
      { field: 'request.url', message: 'unknown template variable "a"; allowed: timestamp, uuid, execution_id' },
      { field: 'request.headers.X-Id', message: 'unknown template variable "b"; allowed: timestamp, uuid, execution_id' },
      { field: 'request.headers.Authorization', message: 'templates cannot build secret:// references' },
      { field: 'request.body.items[0].name', message: 'unknown template variable "c"; allowed: timestamp, uuid, execution_id' },
    ]);
  });
});
