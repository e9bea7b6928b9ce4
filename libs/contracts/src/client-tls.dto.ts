import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, registerDecorator, type ValidationArguments } from 'class-validator';
import {
  caProblem,
  clientCertificateProblem,
  clientKeyProblem,
  MAX_CA_CHARS,
  MAX_CLIENT_CERTIFICATE_CHARS,
  MAX_CLIENT_KEY_CHARS,
} from './client-tls.js';

/** The last problem a `Satisfies` check found, per validated object and property (validation is synchronous). */
const problems = new WeakMap<object, Map<string, string>>();

/** A check of one string property against its object; its message starts with the property's name. */
function Satisfies(check: (value: string, object: Record<string, unknown>) => string | null): PropertyDecorator {
  return (object, propertyName) => {
    registerDecorator({
      name: 'satisfies',
      target: object.constructor,
      propertyName: propertyName as string,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          if (typeof value !== 'string') return true; // IsString says so
          const problem = check(value, args.object as Record<string, unknown>);
          if (problem === null) return true;
          const found = problems.get(args.object) ?? new Map<string, string>();
          found.set(args.property, problem);
          problems.set(args.object, found);
          return false;
        },
        defaultMessage: (args: ValidationArguments) => problems.get(args.object)?.get(args.property) ?? `${args.property} is invalid`,
      },
    });
  };
}

/** Mutual TLS towards the endpoint: checked with node:crypto when written (certificate and key parse, the key is unencrypted and matches). */
export class ClientTlsDto {
  @ApiProperty({ description: 'PEM client certificate (then its chain, if any)', maxLength: MAX_CLIENT_CERTIFICATE_CHARS })
  @IsString()
  @MaxLength(MAX_CLIENT_CERTIFICATE_CHARS)
  @Satisfies((pem) => clientCertificateProblem(pem))
  client_certificate!: string;

  @ApiProperty({ description: 'PEM private key of the client certificate, unencrypted; sealed at rest, never returned', maxLength: MAX_CLIENT_KEY_CHARS })
  @IsString()
  @MaxLength(MAX_CLIENT_KEY_CHARS)
  @Satisfies((pem, dto) => clientKeyProblem(pem, dto.client_certificate))
  client_key!: string;

  @ApiPropertyOptional({ description: 'PEM CA certificates trusted for this endpoint instead of the default roots', maxLength: MAX_CA_CHARS })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CA_CHARS)
  @Satisfies((pem) => caProblem(pem))
  ca?: string;
}

export class ClientCertificateView {
  @ApiProperty() subject!: string;
  @ApiProperty() issuer!: string;
  @ApiProperty() fingerprint_sha256!: string;
  @ApiProperty() not_after!: string;
}

/** What the API shows of a subscription's mutual TLS: the certificate's description, never its PEM or key. */
export class ClientTlsView {
  @ApiProperty({ type: ClientCertificateView }) client_certificate!: ClientCertificateView;
  @ApiProperty({ description: 'Whether CAs of its own are trusted instead of the default roots' }) ca!: boolean;
}
