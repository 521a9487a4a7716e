import { describe, expect, it } from 'vitest';
import { fmtCountdown, fmtDistance, fmtMinutes, fromInputs, minutesUntil } from './format.ts';

describe('formatting in plain words', () => {
  it('minutes until a time, rounded so "1 minute" is not said while 90 s remain', () => {
    const now = 1_000_000;
    expect(minutesUntil(now - 5000, now)).toBe(0);
    expect(minutesUntil(now + 30_000, now)).toBe(1);
    expect(minutesUntil(now + 90_000, now)).toBe(2);
    expect(minutesUntil(now + 10 * 60_000, now)).toBe(10);
  });

  it('durations', () => {
    expect(fmtMinutes('de', 0)).toBe('weniger als einer Minute');
    expect(fmtMinutes('de', 1)).toBe('1 Minute');
    expect(fmtMinutes('de', 7)).toBe('7 Minuten');
    expect(fmtMinutes('en', 7)).toBe('7 minutes');
    expect(fmtMinutes('de', 65)).toBe('1 Std. 5 Min.');
  });

  it('distances', () => {
    expect(fmtDistance('de', 347)).toBe('350 m');
    expect(fmtDistance('de', 1234)).toBe('1,2 km');
    expect(fmtDistance('en', 1234)).toBe('1.2 km');
    expect(fmtDistance('en', 3)).toBe('10 m');
  });

  it('offer countdown and date/time inputs', () => {
    expect(fmtCountdown(119_500)).toBe('1:59');
    expect(fmtCountdown(-5)).toBe('0:00');
    expect(fromInputs('2026-03-02', '08:15')).toBe(new Date(2026, 2, 2, 8, 15).getTime());
    expect(fromInputs('2026-03-02', '')).toBeNull();
  });
});
