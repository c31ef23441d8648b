import { EntitySchema } from '@mikro-orm/postgresql';

/** A workspace secret. Only the ciphertext is stored; the value exists in memory at create and send time. */
export class Secret {
  id!: string;
  workspaceId!: string;
  name!: string;
  /** base64 of iv | tag | AES-256-GCM data, sealed with AAD `secretAad(workspaceId, name)`. */
  ciphertext!: string;
  keyVersion!: number;
  createdAt!: Date;
}

export const SecretSchema = new EntitySchema<Secret>({
  class: Secret,
  tableName: 'secrets',
  properties: {
    id: { type: 'string', primary: true },
    workspaceId: { type: 'string', fieldName: 'workspace_id' },
    name: { type: 'string' },
    ciphertext: { type: 'string', hidden: true },
    keyVersion: { type: 'integer', fieldName: 'key_version' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export const SECRET_ENTITIES = [SecretSchema];

export interface SecretApi {
  readonly id: string;
  readonly name: string;
  /** Secrets are workspace-wide; the field keeps the public API's shape. */
  readonly environment: 'workspace';
  readonly created_at: string;
  readonly key_version: number;
}

export const secretView = (s: Pick<Secret, 'id' | 'name' | 'keyVersion' | 'createdAt'>): SecretApi => ({
  id: s.id,
  name: s.name,
  environment: 'workspace',
  created_at: s.createdAt.toISOString(),
  key_version: s.keyVersion,
});
