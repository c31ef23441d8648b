import { answersWithin } from './within';

describe('answersWithin', () => {
  it('is true for a probe that answers in time', async () => {
    await expect(answersWithin(async () => 'pong', 100)).resolves.toBe(true);
  });

  it('is false for a probe that rejects or throws', async () => {
    await expect(answersWithin(() => Promise.reject(new Error('refused')), 100)).resolves.toBe(false);
    await expect(
      answersWithin(() => {
        throw new Error('synchronous');
      }, 100),
    ).resolves.toBe(false);
  });

  it('is false once the time runs out, without waiting for the probe', async () => {
    const started = Date.now();
    await expect(answersWithin(() => new Promise(() => undefined), 20)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
