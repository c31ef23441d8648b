import type { Provider } from '@nestjs/common';
import { SecretCipher } from './secret-cipher';
import { masterKeysFromConfig, type SecretsConfig } from './secrets.config';
import { SECRET_CIPHER, SecretsService } from './secrets.service';

/**
 * The cipher (built once, at module init, from the validated config) and the service. The app
 * must also register SECRET_ENTITIES with its ORM.
 */
export function secretsProviders(config: SecretsConfig): Provider[] {
  return [{ provide: SECRET_CIPHER, useFactory: () => new SecretCipher(masterKeysFromConfig(config)) }, SecretsService];
}
