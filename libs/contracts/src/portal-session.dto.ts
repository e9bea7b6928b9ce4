import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const PORTAL_SESSION_MIN_SECONDS = 60;
export const PORTAL_SESSION_MAX_SECONDS = 86_400;
export const PORTAL_SESSION_DEFAULT_SECONDS = 3_600;

/** `POST /v1/portal/sessions`: a customer-portal session acting for one tenant. */
export class CreatePortalSessionDto {
  @ApiProperty({ description: 'The tenant the session acts for', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  tenant!: string;

  @ApiPropertyOptional({ minimum: PORTAL_SESSION_MIN_SECONDS, maximum: PORTAL_SESSION_MAX_SECONDS, default: PORTAL_SESSION_DEFAULT_SECONDS, description: 'Seconds until the session expires' })
  @IsOptional()
  @IsInt()
  @Min(PORTAL_SESSION_MIN_SECONDS)
  @Max(PORTAL_SESSION_MAX_SECONDS)
  expires_in?: number;

  @ApiPropertyOptional({ default: false, description: 'The session may only read (GET)' })
  @IsOptional()
  @IsBoolean()
  read_only?: boolean;
}

export class PortalSessionView {
  @ApiProperty({ example: 'ps_4f9c2b7d1e8a4c6b9d0e' })
  id!: string;

  @ApiProperty()
  tenant!: string;

  @ApiProperty()
  read_only!: boolean;

  @ApiProperty({ description: 'ISO 8601' })
  expires_at!: string;

  @ApiProperty({ description: 'Bearer token of the session (signed; carries id, tenant, read_only and expiry, nothing secret)' })
  token!: string;

  @ApiProperty({ description: '<PORTAL_BASE_URL>/portal#session=<token>: the token in the fragment never reaches a server log or a Referer' })
  url!: string;
}

/** `GET /v1/portal/session`: the portal session the caller is. */
export class PortalSessionInfoView {
  @ApiProperty({ example: 'ps_4f9c2b7d1e8a4c6b9d0e' })
  id!: string;

  @ApiProperty({ description: 'The tenant the session acts for' })
  tenant!: string;

  @ApiProperty()
  read_only!: boolean;

  @ApiProperty({ description: 'ISO 8601: when the session (and the link) expires' })
  expires_at!: string;
}
