import { ApiProperty } from '@nestjs/swagger';
import { MAX_SECRET_VALUE_LENGTH, MIN_SECRET_VALUE_LENGTH, SECRET_NAME_PATTERN, SECRET_VALUE_PATTERN, SECRET_VALUE_RULE, secretValueProblem } from '@trigrun/secrets';
import { IsString, Matches, ValidateBy } from 'class-validator';

export class CreateSecretDto {
  @ApiProperty({ example: 'STRIPE_API_KEY', pattern: SECRET_NAME_PATTERN.source, description: 'Unique in the workspace; referenced as secret://<name> in header values' })
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: 'must be 1-128 characters of letters, digits, _, . and -' })
  name!: string;

  @ApiProperty({
    writeOnly: true,
    minLength: MIN_SECRET_VALUE_LENGTH,
    maxLength: MAX_SECRET_VALUE_LENGTH,
    pattern: SECRET_VALUE_PATTERN.source,
    description: 'Stored encrypted; never returned. Printable ASCII, at least 8 characters: shorter values protect nothing and could not be redacted from responses without mangling them.',
  })
  // One rule, one message (the service applies the same function): the value is never echoed.
  @ValidateBy({ name: 'secretValue', validator: { validate: (value: unknown) => secretValueProblem(value) === null, defaultMessage: () => SECRET_VALUE_RULE } })
  value!: string;
}
