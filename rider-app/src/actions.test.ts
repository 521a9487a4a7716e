import { describe, expect, it } from 'vitest';
import { requestBody, validate } from './actions.ts';
import { defaultForm, type BookingForm } from './store.ts';

const home = { lat: 49.4262, lon: 7.7432, label: 'Konrad-Adenauer-Straße 5', source: 'search' as const };
const form = (f: Partial<BookingForm> = {}): BookingForm => {
  const d = defaultForm('tuk');
  return { ...d, from: { ...d.from, address: home }, ...f };
};

describe('the booking form', () => {
  it('door → hub by default, now: the request names the place and the hub, nothing personal', () => {
    expect(validate(form())).toEqual([]);
    expect(requestBody(form())).toEqual({ pickup: { lat: 49.4262, lon: 7.7432 }, dropoff: { hubId: 'tuk' }, passengers: 1, wheelchairs: 0 });
  });

  it('says what is missing or wrong, in words', () => {
    expect(validate(defaultForm('tuk'))).toEqual(['book.missingFrom']);
    const f = form();
    expect(validate({ ...f, from: { mode: 'hub', hubId: 'tuk', address: null } })).toEqual(['book.samePlace']);
    expect(validate(form({ passengers: 1, wheelchairs: 1, pram: true }))).toEqual(['book.tooManyWheel']);
    expect(validate(form({ when: 'later', date: '', time: '' }))).toEqual(['book.missingTime']);
    expect(validate(form({ when: 'later', date: '2020-01-01', time: '10:00' }))).toEqual(['book.pastTime']);
  });

  it('a pram takes a wheelchair place; later rides carry departAt or arriveBy', () => {
    expect(requestBody(form({ passengers: 2, pram: true })).wheelchairs).toBe(1);
    const at = new Date(2030, 0, 15, 7, 45);
    const later = form({ when: 'later', date: '2030-01-15', time: '07:45', timeMode: 'arrive' });
    expect(requestBody(later)).toMatchObject({ arriveBy: at.toISOString() });
    expect(requestBody({ ...later, timeMode: 'depart' })).toMatchObject({ departAt: at.toISOString() });
  });
});
