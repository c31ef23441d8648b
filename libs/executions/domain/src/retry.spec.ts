import { backoffMs, shouldRetry } from './retry';

const policy = { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] };

describe('shouldRetry', () => {
  it.each`
    number | status                | statusCode | errorClass              | expected
    ${1}   | ${'SUCCESS'}          | ${200}     | ${null}                 | ${false}
    ${1}   | ${'TIMEOUT'}          | ${null}    | ${'Timeout'}            | ${true}
    ${1}   | ${'CONNECTION_ERROR'} | ${null}    | ${'ECONNREFUSED'}       | ${true}
    ${1}   | ${'CONNECTION_ERROR'} | ${null}    | ${'DestinationBlocked'} | ${false}
    ${1}   | ${'HTTP_ERROR'}       | ${503}     | ${null}                 | ${true}
    ${1}   | ${'HTTP_ERROR'}       | ${404}     | ${null}                 | ${false}
    ${1}   | ${'MATCH_FAILED'}     | ${200}     | ${null}                 | ${false}
    ${2}   | ${'TIMEOUT'}          | ${null}    | ${null}                 | ${true}
    ${3}   | ${'TIMEOUT'}          | ${null}    | ${null}                 | ${false}
    ${3}   | ${'HTTP_ERROR'}       | ${500}     | ${null}                 | ${false}
  `('attempt $number $status $statusCode $errorClass -> $expected', ({ number, status, statusCode, errorClass, expected }) => {
    expect(shouldRetry({ number, status, statusCode, errorClass }, policy)).toBe(expected);
  });
});

describe('backoffMs', () => {
  it.each`
    attempt | jitter   | expected
    ${1}    | ${0}     | ${375}
    ${1}    | ${0.5}   | ${500}
    ${1}    | ${0.999} | ${625}
    ${2}    | ${0.5}   | ${1000}
    ${5}    | ${0.5}   | ${8000}
  `('after attempt $attempt with jitter $jitter waits $expected ms', ({ attempt, jitter, expected }) => {
    expect(backoffMs(attempt, jitter)).toBe(expected);
  });
});
