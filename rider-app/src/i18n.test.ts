import { describe, expect, it } from 'vitest';
import { TEXTS, translate } from './i18n.ts';

describe('texts', () => {
  it('German and English name the same keys with the same placeholders', () => {
    const keys = Object.keys(TEXTS.de);
    expect(Object.keys(TEXTS.en).sort()).toEqual([...keys].sort());
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of keys as (keyof typeof TEXTS.de)[]) expect(params(TEXTS.en[k]), k).toEqual(params(TEXTS.de[k]));
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('de', 'notice.soon', { bus: 'KL-S 102', minutes: '2 Minuten' })).toBe('Ihr Bus KL-S 102 ist in 2 Minuten da. Bitte machen Sie sich bereit.');
    expect(translate('en', 'notice.soon', { bus: 'KL-S 102', minutes: '2 minutes' })).toBe('Your bus KL-S 102 is 2 minutes away. Please get ready.');
    expect(translate('de', 'book.chosen')).toBe('Gewählt: {label}');
  });

  it('plain language: short sentences (no text longer than 40 words)', () => {
    for (const lang of ['de', 'en'] as const) {
      for (const [k, s] of Object.entries(TEXTS[lang])) expect(s.split(/\s+/).length, `${lang} ${k}`).toBeLessThanOrEqual(40);
    }
  });
});
