import { InvalidCommandError } from './callbacks';
import { driveSubjects, parseDriveExecution } from './drive';

describe('DriveExecution', () => {
  const command = { type: 'DriveExecution', version: 1, execution_id: 'exec_01ABC', job_id: 'job_1', workspace_id: 'ws_1', position: 2, reason: 'running, its attempt not recorded' };

  it('parses a v1 command', () => {
    expect(parseDriveExecution(command)).toEqual(command);
  });

  it.each([
    ['another type', { ...command, type: 'DeliverCallback' }],
    ['another version', { ...command, version: 2 }],
    ['an id that is no subject token', { ...command, execution_id: 'exec.1.>' }],
    ['a fractional position', { ...command, position: 1.5 }],
    ['no reason', { ...command, reason: undefined }],
    ['null', null],
  ])('refuses %s', (_what, value) => {
    expect(() => parseDriveExecution(value)).toThrow(InvalidCommandError);
  });

  it('has one subject per execution in the DRIVES stream', () => {
    expect(driveSubjects('trigrun')).toMatchObject({ stream: 'TRIGRUN_DRIVES', all: 'trigrun.cmd.drive.*' });
    expect(driveSubjects('trigrun').forExecution('exec_1')).toBe('trigrun.cmd.drive.exec_1');
  });
});
