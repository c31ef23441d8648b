import { Migration } from '@mikro-orm/migrations';

/** Accounts, jobs and the execution read model. */
export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`
      create table workspaces (
        id text primary key,
        name text not null,
        timezone text not null default 'UTC',
        created_at timestamptz not null
      );
      create table users (
        id text primary key,
        name text not null,
        email text not null,
        password_hash text not null,
        created_at timestamptz not null
      );
      create unique index users_email_uq on users (lower(email));
      create table memberships (
        id text primary key,
        workspace_id text not null references workspaces (id) on delete cascade,
        user_id text not null references users (id) on delete cascade,
        role text not null check (role in ('owner', 'admin', 'member')),
        created_at timestamptz not null,
        unique (workspace_id, user_id)
      );
      create index memberships_user_idx on memberships (user_id);
      create table api_tokens (
        id text primary key,
        workspace_id text not null references workspaces (id) on delete cascade,
        user_id text not null references users (id) on delete cascade,
        name text not null,
        role text not null check (role in ('owner', 'admin', 'member')),
        token_hash text not null unique,
        token_prefix text not null,
        created_at timestamptz not null,
        last_used_at timestamptz null,
        revoked_at timestamptz null
      );
      create index api_tokens_workspace_idx on api_tokens (workspace_id, id);

      create table jobs (
        id text primary key,
        workspace_id text not null references workspaces (id) on delete cascade,
        name text not null,
        kind text not null,
        state text not null,
        schedule jsonb null,
        request jsonb null,
        steps jsonb null,
        retry_policy jsonb not null,
        max_concurrent_executions integer not null,
        max_workflow_duration_seconds integer null,
        on_success_url text null,
        on_failure_url text null,
        response_output_template jsonb null,
        next_run_at timestamptz null,
        last_run_at timestamptz null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        deleted_at timestamptz null
      );
      create index jobs_workspace_idx on jobs (workspace_id, id desc) where deleted_at is null;

      create table executions (
        id text primary key,
        workspace_id text not null,
        job_id text not null,
        job_name text not null,
        kind text not null,
        status text not null,
        trigger text not null,
        scheduled_for timestamptz null,
        queued_at timestamptz not null,
        started_at timestamptz null,
        finished_at timestamptz null,
        duration_ms integer null,
        attempts jsonb not null default '[]',
        step_executions jsonb not null default '[]',
        trigger_input jsonb null,
        waiting_reason text null,
        waiting_payload jsonb null,
        waiting_expires_at timestamptz null,
        final_output jsonb null,
        error jsonb null,
        replay_of text null,
        position integer not null,
        last_seq bigint not null,
        updated_at timestamptz not null
      );
      create index executions_workspace_idx on executions (workspace_id, id desc);
      create index executions_job_idx on executions (workspace_id, job_id, id desc);
      create index executions_status_idx on executions (workspace_id, status, id desc);
    `);
  }

  override down(): void {
    this.addSql('drop table if exists executions, jobs, api_tokens, memberships, users, workspaces cascade;');
  }
}
