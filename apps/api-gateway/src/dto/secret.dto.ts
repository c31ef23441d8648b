import { ApiProperty } from '@nestjs/swagger';
import { MAX_SECRET_VALUE_LENGTH, SECRET_NAME_PATTERN } from '@trigrun/secrets';
import { IsString, Length, Matches } from 'class-validator';

export class CreateSecretDto {
  @ApiProperty({ example: 'STRIPE_API_KEY', pattern: SECRET_NAME_PATTERN.source, description: 'Unique in the workspace; referenced as secret://<name> in header values' })
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: 'must be 1-128 characters of letters, digits, _, . and -' })
  name!: string;

  @ApiProperty({ writeOnly: true, minLength: 1, maxLength: MAX_SECRET_VALUE_LENGTH, description: 'Stored encrypted; never returned' })
  @IsString()
  @Length(1, MAX_SECRET_VALUE_LENGTH, { message: `must be 1 to ${MAX_SECRET_VALUE_LENGTH} characters` })
  value!: string;
}
