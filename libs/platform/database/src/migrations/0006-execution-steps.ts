import { Migration } from '@mikro-orm/migrations';

/**
 * Read model: step executions and waiting state of workflow executions (docs/workflows.md, docs/executions.md).
 *
 * `waiting_payload` goes: its URLs carry the parking token, which must never be stored in clear.
 * The row keeps what is needed to build them at read time instead — the token sealed under the
 * master key (`waiting_token_sealed`, `{ciphertext, key_version}`), the step and the message.
 * `step_executions`, `waiting_reason` and `waiting_expires_at` exist since 0001.
 */
export class Migration0006ExecutionSteps extends Migration {
  override up(): void {
    this.addSql(`
      alter table executions
        drop column if exists waiting_payload,
        add column waiting_step_id text null,
        add column waiting_message text null,
        add column waiting_token_sealed jsonb null,
        add column context jsonb null;
    `);
  }

  override down(): void {
    this.addSql(`
      alter table executions
        drop column if exists context,
        drop column if exists waiting_token_sealed,
        drop column if exists waiting_message,
        drop column if exists waiting_step_id,
        add column waiting_payload jsonb null;
    `);
  }
}
