import { assertActionsAllowed, parseLrmVersion, versionSupport } from './version';

describe('LRM version from the login page', () => {
  it('reads the version at the bottom of the page in the usual forms', () => {
    expect(parseLrmVersion('<footer>Local Run Manager v4.1.0</footer>')?.text).toBe('4.1.0');
    expect(parseLrmVersion('<div>LRM Version 3.1.0.12 &nbsp;|</div>')).toMatchObject({
      text: '3.1.0.12',
      major: 3,
      minor: 1,
    });
    expect(parseLrmVersion('<p>Version: 4.0</p>')).toMatchObject({ major: 4, minor: 0 });
  });

  it('ignores versions in scripts and attributes, and prefers the last (bottom) match', () => {
    const page =
      '<script>var v="Version 9.9.9"</script><img alt="version 8.0"><p>Local Run Manager v2.0</p><footer>Local Run Manager v4.2.1</footer>';
    expect(parseLrmVersion(page)?.text).toBe('4.2.1');
  });

  it('returns undefined when there is no version, and honours a configured pattern', () => {
    expect(parseLrmVersion('<html><body>Sign in</body></html>')).toBeUndefined();
    expect(parseLrmVersion('<b>build 4.3.2-rc</b>', 'build (\\d+\\.\\d+\\.\\d+)')?.text).toBe('4.3.2');
    expect(parseLrmVersion('<b>Local Run Manager v4.1</b>', 'build (\\d+\\.\\d+)')).toBeUndefined();
  });

  it('supports 4.x, refuses 3.x and older, and treats newer as untested', () => {
    const v = (text: string) => parseLrmVersion(`Version ${text}`)!;
    expect(versionSupport(v('4.0.0'))).toBe('supported');
    expect(versionSupport(v('3.9'))).toBe('too-old');
    expect(versionSupport(v('2.1'))).toBe('too-old');
    expect(versionSupport(v('5.0'))).toBe('untested');
    expect(() => assertActionsAllowed(v('3.1'), true)).toThrow(/Illumina Technical Support/);
    expect(() => assertActionsAllowed(v('5.0'), false)).toThrow(/allowUntestedVersion/);
    expect(assertActionsAllowed(v('5.0'), true).text).toBe('5.0');
    expect(() => assertActionsAllowed(undefined, true)).toThrow(
      expect.objectContaining({ code: 'FP_LRM_VERSION_UNKNOWN' }),
    );
  });
});
