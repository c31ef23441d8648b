import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsNotEmpty, IsString, MaxLength, MinLength, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

@ValidatorConstraint({ name: 'ianaTimezone' })
export class IsIanaTimezone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'must be an IANA time zone such as Europe/Berlin or UTC';
  }
}

export class SignupDto {
  @ApiProperty({ example: 'Ada Lovelace' }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ example: 'ada@example.com' }) @IsEmail({}, { message: 'must be an email address' }) @MaxLength(320) email!: string;
  @ApiProperty({ minLength: 8, writeOnly: true }) @IsString() @MinLength(8) @MaxLength(200) password!: string;
  @ApiProperty({ example: 'Analytical Engines' }) @IsString() @IsNotEmpty() @MaxLength(200) workspace_name!: string;
  @ApiProperty({ example: 'Europe/London', default: 'UTC' }) @Validate(IsIanaTimezone) timezone!: string;
}

export class LoginDto {
  @ApiProperty() @IsString() @IsNotEmpty() email!: string;
  @ApiProperty({ writeOnly: true }) @IsString() @IsNotEmpty() password!: string;
}

export class SwitchWorkspaceDto {
  @ApiProperty({ example: 'ws_01J...' }) @IsString() @IsNotEmpty() workspace_id!: string;
}

export class CreateApiTokenDto {
  @ApiProperty({ example: 'ci-deploys' }) @IsString() @IsNotEmpty() @MaxLength(100) name!: string;
}

export class AddMemberDto {
  @ApiProperty() @IsEmail({}, { message: 'must be an email address' }) email!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member'] }) @IsIn(['owner', 'admin', 'member']) role!: 'owner' | 'admin' | 'member';
}
