import { Inject, Injectable } from '@nestjs/common';
import { type MikroORM, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import type { Principal } from '@trigrun/accounts';
import { InjectOrm } from '@trigrun/nest';
import { DomainError, type FieldProblem, newId } from '@trigrun/util';
import { SecretCipher, SecretDecryptionError } from './secret-cipher';
import { SECRET_NAME_PATTERN } from './secret-references';
import { Secret, type SecretApi, secretView } from './secret.entity';

/** Injection token of the SecretCipher (see `secretsProviders`). */
export const SECRET_CIPHER = Symbol('SECRET_CIPHER');

export const MAX_SECRET_VALUE_LENGTH = 16_384;
/**
 * Shorter values are refused (docs/secrets.md): a credential that short protects nothing, and
 * redacting it from responses would mangle ordinary text. Values stored before the rule are still
 * redacted whatever their length.
 */
export const MIN_SECRET_VALUE_LENGTH = 8;
/**
 * What an HTTP header value carries (RFC 9110 field-value without the obsolete non-ASCII bytes):
 * a secret is only ever sent in one, and a value outside it would fail at send time or reach the
 * target as other bytes than the ones the redactor looks for.
 */
export const SECRET_VALUE_PATTERN = /^[\t\x20-\x7e]*$/;
export const SECRET_VALUE_RULE = `must be ${MIN_SECRET_VALUE_LENGTH} to ${MAX_SECRET_VALUE_LENGTH} characters of printable ASCII (space and tab allowed), as sent in a header value`;

/** The problem with a secret value, or null. Never echoes the value. */
export function secretValueProblem(value: unknown): string | null {
  if (typeof value !== 'string') return SECRET_VALUE_RULE;
  if (value.length < MIN_SECRET_VALUE_LENGTH || value.length > MAX_SECRET_VALUE_LENGTH || !SECRET_VALUE_PATTERN.test(value)) return SECRET_VALUE_RULE;
  return null;
}

/**
 * What a ciphertext is bound to. A row copied to another workspace, or renamed, no longer
 * authenticates. The `secret:` prefix keeps these apart from anything else sealed under the same
 * master key. Names cannot contain `:`, so the string is unambiguous.
 */
export const secretAad = (workspaceId: string, name: string) => `secret:${workspaceId}:${name}`;

/** What creating a secret takes; the HTTP controller builds it from the body (apps/api-gateway/src/dto/secret.dto.ts). */
export interface CreateSecretCommand {
  readonly name: string;
  readonly value: string;
}

@Injectable()
export class SecretsService {
  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    @Inject(SECRET_CIPHER) private readonly cipher: SecretCipher,
  ) {}

  async create(principal: Principal, input: CreateSecretCommand): Promise<SecretApi> {
    assertCanManage(principal);
    // The DTO checks these too; the service does not trust its callers (CLI, MCP) to have one.
    const problems: FieldProblem[] = [];
    if (typeof input.name !== 'string' || !SECRET_NAME_PATTERN.test(input.name)) {
      problems.push({ field: 'name', message: 'must be 1-128 characters of letters, digits, _, . and -' });
    }
    const valueProblem = secretValueProblem(input.value);
    if (valueProblem) problems.push({ field: 'value', message: valueProblem });
    if (problems.length > 0) throw DomainError.validation(problems);

    const em = this.orm.em.fork();
    const workspaceId = principal.workspaceId;
    if (await em.count(Secret, { workspaceId, name: input.name })) throw duplicate(input.name);
    const sealed = this.cipher.encrypt(input.value, secretAad(workspaceId, input.name));
    const now = new Date();
    const secret = em.create(Secret, {
      id: newId('sec', now.getTime()),
      workspaceId,
      name: input.name,
      ciphertext: sealed.ciphertext,
      keyVersion: sealed.keyVersion,
      createdAt: now,
    });
    try {
      await em.flush();
    } catch (error) {
      // Two creates of one name racing past the check above: the unique index decides.
      if (error instanceof UniqueConstraintViolationException) throw duplicate(input.name);
      throw error;
    }
    return secretView(secret);
  }

  /** Names and metadata only: the ciphertext is not even loaded. */
  async list(principal: Principal): Promise<{ data: SecretApi[]; next_cursor: null }> {
    const secrets = await this.orm.em
      .fork()
      .find(Secret, { workspaceId: principal.workspaceId }, { fields: ['id', 'name', 'keyVersion', 'createdAt'], orderBy: { name: 'asc' } });
    return { data: secrets.map(secretView), next_cursor: null };
  }

  async remove(principal: Principal, id: string): Promise<void> {
    assertCanManage(principal);
    const deleted = await this.orm.em.fork().nativeDelete(Secret, { id, workspaceId: principal.workspaceId });
    if (deleted === 0) throw DomainError.notFound('Secret');
  }

  /**
   * The values of the named secrets of one workspace, for substitution at send time. Unknown
   * names are simply absent from the map (the reference stays literal). A stored value that does
   * not decrypt throws SecretDecryptionError naming the secret: sending the literal reference
   * instead would hide a key-configuration problem behind a confusing 401 from the target.
   */
  async resolve(workspaceId: string, names: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(names)].filter((n) => SECRET_NAME_PATTERN.test(n));
    const values = new Map<string, string>();
    if (wanted.length === 0) return values;
    const secrets = await this.orm.em.fork().find(Secret, { workspaceId, name: { $in: wanted } });
    for (const secret of secrets) {
      try {
        values.set(secret.name, this.cipher.decrypt(secret.ciphertext, secret.keyVersion, secretAad(workspaceId, secret.name)));
      } catch (error) {
        throw new SecretDecryptionError(`Secret "${secret.name}" could not be decrypted: ${(error as Error).message}`, { cause: error });
      }
    }
    return values;
  }

  /**
   * Re-seals every value stored under a retired key with the current key, in batches. Once it
   * reports no `undecryptable` rows, the retired keys can leave TRIGRUN_PREVIOUS_MASTER_KEYS. A
   * row that does not open (unknown key version, tampered, copied) is skipped and listed by id
   * rather than stopping the run: one bad row must not block a rotation. Each update is
   * conditional on the ciphertext it read, so a concurrent delete or re-create is never overwritten.
   */
  async reencryptWithCurrentKey(batchSize = 200): Promise<{ rewritten: number; undecryptable: string[] }> {
    const current = this.cipher.currentKeyVersion;
    const undecryptable: string[] = [];
    let rewritten = 0;
    let after = '';
    for (;;) {
      const em = this.orm.em.fork();
      const batch = await em.find(Secret, { keyVersion: { $ne: current }, id: { $gt: after } }, { orderBy: { id: 'asc' }, limit: batchSize });
      if (batch.length === 0) return { rewritten, undecryptable };
      for (const secret of batch) {
        const aad = secretAad(secret.workspaceId, secret.name);
        let value: string;
        try {
          value = this.cipher.decrypt(secret.ciphertext, secret.keyVersion, aad);
        } catch (error) {
          if (!(error instanceof SecretDecryptionError)) throw error;
          undecryptable.push(secret.id);
          continue;
        }
        const sealed = this.cipher.encrypt(value, aad);
        rewritten += await em.nativeUpdate(
          Secret,
          { id: secret.id, keyVersion: secret.keyVersion, ciphertext: secret.ciphertext },
          { ciphertext: sealed.ciphertext, keyVersion: sealed.keyVersion },
        );
      }
      after = batch[batch.length - 1].id;
    }
  }
}

/** Owners and admins manage secrets (docs/authentication.md). The global guard already stops members' writes; this keeps the rule with the service. */
function assertCanManage(principal: Principal): void {
  if (principal.role !== 'owner' && principal.role !== 'admin') throw DomainError.forbidden('Only owners and admins manage secrets');
}

const duplicate = (name: string) => DomainError.conflict(`A secret named "${name}" already exists; delete it first to change its value`, { field: 'name' });
