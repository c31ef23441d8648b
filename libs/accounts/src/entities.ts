import { EntitySchema } from '@mikro-orm/postgresql';

export type Role = 'owner' | 'admin' | 'member';
export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

export class Workspace {
  id!: string;
  name!: string;
  timezone!: string;
  createdAt!: Date;
}

export class User {
  id!: string;
  name!: string;
  email!: string;
  passwordHash!: string;
  createdAt!: Date;
}

export class Membership {
  id!: string;
  workspaceId!: string;
  userId!: string;
  role!: Role;
  createdAt!: Date;
}

export class ApiToken {
  id!: string;
  workspaceId!: string;
  userId!: string;
  name!: string;
  role!: Role;
  tokenHash!: string;
  tokenPrefix!: string;
  createdAt!: Date;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
}

export const WorkspaceSchema = new EntitySchema<Workspace>({
  class: Workspace,
  tableName: 'workspaces',
  properties: {
    id: { type: 'string', primary: true },
    name: { type: 'string' },
    timezone: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'string', primary: true },
    name: { type: 'string' },
    email: { type: 'string' },
    passwordHash: { type: 'string', fieldName: 'password_hash', hidden: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export const MembershipSchema = new EntitySchema<Membership>({
  class: Membership,
  tableName: 'memberships',
  properties: {
    id: { type: 'string', primary: true },
    workspaceId: { type: 'string', fieldName: 'workspace_id' },
    userId: { type: 'string', fieldName: 'user_id' },
    role: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export const ApiTokenSchema = new EntitySchema<ApiToken>({
  class: ApiToken,
  tableName: 'api_tokens',
  properties: {
    id: { type: 'string', primary: true },
    workspaceId: { type: 'string', fieldName: 'workspace_id' },
    userId: { type: 'string', fieldName: 'user_id' },
    name: { type: 'string' },
    role: { type: 'string' },
    tokenHash: { type: 'string', fieldName: 'token_hash', hidden: true },
    tokenPrefix: { type: 'string', fieldName: 'token_prefix' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    lastUsedAt: { type: 'Date', fieldName: 'last_used_at', nullable: true },
    revokedAt: { type: 'Date', fieldName: 'revoked_at', nullable: true },
  },
});

export const ACCOUNT_ENTITIES = [WorkspaceSchema, UserSchema, MembershipSchema, ApiTokenSchema];
