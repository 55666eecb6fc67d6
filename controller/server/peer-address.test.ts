import { peerAddress } from './peer-address';

describe('peer address', () => {
  it('takes the address from grpc-js peer strings', () => {
    expect(peerAddress('127.0.0.1:5123')).toBe('127.0.0.1');
    expect(peerAddress('ipv4:10.0.0.5:40000')).toBe('10.0.0.5');
    expect(peerAddress('[::1]:5123')).toBe('::1');
    expect(peerAddress('ipv6:[fe80::1]:443')).toBe('fe80::1');
    expect(peerAddress('unix:/tmp/x')).toBe('unix:/tmp/x');
  });

  it('leaves a source without a port as it is', () => {
    expect(peerAddress('local')).toBe('local');
    expect(peerAddress('10.0.0.5')).toBe('10.0.0.5');
  });

  it('gives one key for every port of an address (the admin flood window and the enrollment limiter)', () => {
    expect(new Set(['127.0.0.1:1', '127.0.0.1:65535', 'ipv4:127.0.0.1:40000'].map(peerAddress))).toEqual(
      new Set(['127.0.0.1']),
    );
    expect(peerAddress('127.0.0.2:1')).not.toBe(peerAddress('127.0.0.1:1'));
  });

  it('keys grpc-js peers as the admin flood window did before it shared this function', () => {
    const formerSourceKey = (source: string) => {
      const s = source.replace(/^ipv[46]:/, '');
      const m = /^\[?([^\]]*?)\]?:\d+$/.exec(s);
      return m ? m[1] : s;
    };
    for (const peer of [
      '127.0.0.1:5123',
      'ipv4:127.0.0.1:1',
      '[::1]:5123',
      'ipv6:[::1]:40000',
      '[fe80::1%eth0]:7443',
      'local',
      'unix:/run/x.sock',
      '10.0.0.5',
    ]) {
      expect(peerAddress(peer)).toBe(formerSourceKey(peer));
    }
  });
});
