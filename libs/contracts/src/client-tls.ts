import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

/** Bounds of a subscription's mutual TLS material (PEM characters). */
export const MAX_CLIENT_CERTIFICATE_CHARS = 32 * 1024;
export const MAX_CLIENT_KEY_CHARS = 16 * 1024;
export const MAX_CA_CHARS = 64 * 1024;
/** Certificates in one PEM field (a chain, or the CAs trusted). */
const MAX_PEM_CERTIFICATES = 16;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM text (a leaf and its chain, or CAs); null when there is none or one does not parse. */
export function readCertificates(pem: string): X509Certificate[] | null {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0 || blocks.length > MAX_PEM_CERTIFICATES) return null;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    return null;
  }
}

/** An unencrypted PEM private key; null for anything else (an encrypted key needs a passphrase the gateway does not keep). */
export function readPrivateKey(pem: string): KeyObject | null {
  if (!pem.includes('-----BEGIN') || pem.includes('ENCRYPTED')) return null;
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return null;
  }
}

/** Why a client certificate field is refused (the message starts with the field's name), or null. */
export function clientCertificateProblem(pem: string): string | null {
  return readCertificates(pem) === null ? `client_certificate must be a PEM certificate (the first one is the client's, any others its chain; at most ${MAX_PEM_CERTIFICATES})` : null;
}

/** Why a client key is refused, the certificate read with it (the message starts with the field's name), or null. */
export function clientKeyProblem(pem: string, certificatePem: unknown): string | null {
  const key = readPrivateKey(pem);
  if (key === null) return 'client_key must be an unencrypted PEM private key';
  const certificate = typeof certificatePem === 'string' ? readCertificates(certificatePem)?.[0] : undefined;
  // An unreadable certificate is its own field's problem.
  if (certificate !== undefined && !certificate.checkPrivateKey(key)) return 'client_key does not match tls.client_certificate';
  return null;
}

export function caProblem(pem: string): string | null {
  return readCertificates(pem) === null ? `ca must be one or more PEM certificates (at most ${MAX_PEM_CERTIFICATES})` : null;
}

/** What the API shows of a client certificate: never the PEM. */
export interface ClientCertificateSummary {
  subject: string;
  issuer: string;
  fingerprint_sha256: string;
  not_after: string;
}

export function describeCertificate(pem: string): ClientCertificateSummary | undefined {
  const certificate = readCertificates(pem)?.[0];
  if (certificate === undefined) return undefined;
  return {
    subject: certificate.subject.replaceAll('\n', ', '),
    issuer: certificate.issuer.replaceAll('\n', ', '),
    fingerprint_sha256: certificate.fingerprint256,
    not_after: new Date(certificate.validTo).toISOString(),
  };
}
