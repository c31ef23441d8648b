import { parkLinks } from './park-tokens';

describe('parkLinks: the one spelling of a token\'s public links', () => {
  const token = 'exec_01J00000000000000000000000.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde';

  it('puts every link under the public base URL, whatever trailing slashes it was given', () => {
    for (const base of ['https://trigrun.example', 'https://trigrun.example/', 'https://trigrun.example//']) {
      expect(parkLinks(base, token)).toEqual({
        resumeUrl: `https://trigrun.example/v1/resume/${token}`,
        reviewUrl: `https://trigrun.example/v1/approvals/${token}`,
        approveUrl: `https://trigrun.example/v1/approvals/${token}/approve`,
        rejectUrl: `https://trigrun.example/v1/approvals/${token}/reject`,
      });
    }
  });

  it('escapes what a path segment cannot carry (a well-formed token has none of it)', () => {
    expect(parkLinks('https://x.example', 'a/b?c').reviewUrl).toBe('https://x.example/v1/approvals/a%2Fb%3Fc');
  });
});
