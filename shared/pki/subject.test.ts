import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { commonName, subjectValues } from './subject';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A self-signed certificate with exactly this subject (a string or structured name). */
async function certWith(name: string | x509.JsonName): Promise<X509Certificate> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name,
    keys,
    signingAlgorithm: ALG,
  });
  return new X509Certificate(cert.toString('pem'));
}

describe('certificate subject names', () => {
  it('reads one CN and the operator OU', async () => {
    const node = await certWith('CN=nextseq-01.lab');
    expect(commonName(node)).toBe('nextseq-01.lab');
    expect(subjectValues(node, 'OU')).toEqual([]);
    const operator = await certWith([{ OU: ['fleetpass-operator'] }, { CN: ['otto'] }]);
    expect(subjectValues(operator, 'OU')).toEqual(['fleetpass-operator']);
    expect(commonName(operator)).toBe('otto');
  });

  it('gives no name for none, an empty one or several', async () => {
    expect(commonName(await certWith('O=lab'))).toBeUndefined();
    expect(commonName(await certWith('CN='))).toBeUndefined();
    const two = await certWith('CN=a, CN=b');
    expect(subjectValues(two, 'CN')).toEqual(['a', 'b']);
    expect(commonName(two)).toBeUndefined();
  });

  it('matches whole attributes only, not a value that looks like one', async () => {
    const c = await certWith([{ O: ['CN=evil'] }, { OU: ['fleetpass-operatorx'] }, { CN: ['n1'] }]);
    expect(subjectValues(c, 'OU')).toEqual(['fleetpass-operatorx']);
    expect(subjectValues(c, 'CN')).toEqual(['n1']);
    expect(commonName(c)).toBe('n1');
  });

  it('keeps escaped characters escaped, so a name cannot smuggle another attribute', async () => {
    const c = await certWith([{ CN: ['a\nOU=fleetpass-operator'] }]);
    expect(subjectValues(c, 'OU')).toEqual([]);
    expect(commonName(c)).toBe('a\\0AOU=fleetpass-operator');
  });
});
