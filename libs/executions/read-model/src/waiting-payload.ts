import { type WaitingPayloadOf, type WaitingView, waitingPayload } from './execution.projection';

export interface WaitingPayloadOptions {
  /** `TRIGRUN_PUBLIC_URL`, without a trailing slash. */
  readonly publicUrl: string;
  /**
   * Opens the sealed token of an execution's parked step (the api-gateway: the secrets cipher
   * with `parkTokenAad(executionId, stepId)`). Throws when it cannot (key version retired,
   * tampered row).
   */
  readonly openToken: (executionId: string, waiting: WaitingView) => string;
  /** Told when a token cannot be opened; the message names the execution, step and key version, never the ciphertext. */
  readonly warn?: (message: string) => void;
}

/**
 * `waiting_payload` with its URLs, opened at read time. A token that no longer opens (its master
 * key was rotated away) leaves the URLs null instead of failing the whole read: the execution is
 * still worth showing, and the step's timeout will end the wait.
 */
export function waitingPayloadsOpenedWith(options: WaitingPayloadOptions): WaitingPayloadOf {
  return (executionId, waiting) => {
    let token: string;
    try {
      token = options.openToken(executionId, waiting);
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      options.warn?.(
        `cannot open the parking token of execution ${executionId}, step ${waiting.stepId} (key version ${waiting.tokenSealed.key_version}); ` +
          `serving waiting_payload without URLs. ${why}`,
      );
      return waitingPayload(waiting, null);
    }
    return waitingPayload(waiting, { publicUrl: options.publicUrl, token });
  };
}
