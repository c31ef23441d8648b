import { Migration } from '@mikro-orm/migrations';

/** Workspace secrets (docs/secrets.md): only AES-256-GCM ciphertext and the version of the key that sealed it. */
export class Migration0003Secrets extends Migration {
  override up(): void {
    this.addSql(`
      create table secrets (
        id text primary key,
        workspace_id text not null references workspaces (id) on delete cascade,
        name text not null,
        ciphertext text not null,
        key_version integer not null check (key_version >= 1),
        created_at timestamptz not null,
        constraint secrets_workspace_name_uq unique (workspace_id, name)
      );
    `);
  }

  override down(): void {
    this.addSql('drop table if exists secrets;');
  }
}
