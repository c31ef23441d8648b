import { InvalidCommandError } from './callbacks';

/**
 * `DriveExecution` (v1): the sweeper's command to re-drive an execution that has no pending
 * driver (docs/recovery.md). The step-runner loads the execution and performs its next action
 * exactly as a delivery of its last event would; a needless one changes nothing.
 *
 * Subject: <namespace>.cmd.drive.<execution_id>   stream <NAMESPACE>_DRIVES
 * Nats-Msg-Id: <execution_id>:drive:<position> (sweepers that find the same stall issue one command)
 */
export interface DriveExecution {
  readonly type: 'DriveExecution';
  readonly version: 1;
  readonly execution_id: string;
  readonly job_id: string;
  readonly workspace_id: string;
  /** The position of the last event when the sweeper found it stalled. */
  readonly position: number;
  /** Why the sweeper re-drives it, for the log (e.g. "running, last event ExecutionStarted 312 s ago"). */
  readonly reason: string;
}

export const driveSubjects = (namespace: string) => ({
  stream: `${namespace.toUpperCase()}_DRIVES`,
  all: `${namespace}.cmd.drive.*`,
  forExecution: (executionId: string) => `${namespace}.cmd.drive.${executionId}`,
});

const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function parseDriveExecution(value: unknown): DriveExecution {
  const v = value as Partial<DriveExecution> | null;
  const ok =
    !!v &&
    v.type === 'DriveExecution' &&
    v.version === 1 &&
    typeof v.execution_id === 'string' &&
    ID.test(v.execution_id) &&
    typeof v.job_id === 'string' &&
    typeof v.workspace_id === 'string' &&
    Number.isInteger(v.position) &&
    typeof v.reason === 'string';
  if (!ok) throw new InvalidCommandError('not a DriveExecution v1 command');
  return v as DriveExecution;
}
