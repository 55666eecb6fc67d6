import { assertLabels } from './labels';

describe('assertLabels', () => {
  it('keeps readable labels and refuses the rest with the problem named', () => {
    expect(assertLabels({ site: 'bldg7', 'k8s.io/zone': 'b-12' })).toEqual({ site: 'bldg7', 'k8s.io/zone': 'b-12' });
    expect(assertLabels({})).toEqual({});
    expect(() => assertLabels({ 'bad key': 'x' })).toThrow(/the label key "bad key" must be/);
    expect(() => assertLabels({ site: 'a\nb' })).toThrow(/the value of label site contains/);
    expect(() => assertLabels({ site: 'x'.repeat(101) })).toThrow(/longer than 100 characters/);
    expect(() => assertLabels({ site: 7 })).toThrow(/must be text/);
    expect(() =>
      assertLabels(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])), 'a token'),
    ).toThrow(/a token may carry at most 32 labels/);
  });
});
