import { describe, expect, it } from 'vitest';
import { lineDepartures, type Timetable } from './timetable.ts';

const MIN = 60_000;
const tt: Timetable = {
  synthetic: true,
  timeZone: 'Europe/Berlin',
  departures: [
    { hubId: 'tuk', lineId: 'L1', first: '05:04', last: '23:49', headwayMin: 15 },
    { hubId: 'tuk', lineId: 'N9', first: '23:40', last: '24:40', headwayMin: 30 },
  ],
};

describe('timetable', () => {
  it('lists departures every 15 minutes in local time', () => {
    const from = Date.UTC(2025, 5, 4, 6, 0); // 08:00 CEST
    const deps = lineDepartures(tt, 'tuk', from, from + 60 * MIN, 'L1');
    expect(deps.map((d) => (d.time - from) / MIN)).toEqual([4, 19, 34, 49]);
  });

  it('keeps local times across the switch to summer time', () => {
    const sat = lineDepartures(tt, 'tuk', Date.UTC(2025, 2, 29, 0, 0), Date.UTC(2025, 2, 29, 12, 0), 'L1')[0];
    const mon = lineDepartures(tt, 'tuk', Date.UTC(2025, 2, 31, 0, 0), Date.UTC(2025, 2, 31, 12, 0), 'L1')[0];
    expect(sat.time).toBe(Date.UTC(2025, 2, 29, 4, 4)); // 05:04 CET
    expect(mon.time).toBe(Date.UTC(2025, 2, 31, 3, 4)); // 05:04 CEST
  });

  it('runs service after midnight on the previous service day', () => {
    const deps = lineDepartures(tt, 'tuk', Date.UTC(2025, 5, 4, 21, 30), Date.UTC(2025, 5, 4, 23, 0), 'N9');
    // 23:40, 00:10, 00:40 local = 21:40Z, 22:10Z, 22:40Z
    expect(deps.map((d) => d.time)).toEqual([Date.UTC(2025, 5, 4, 21, 40), Date.UTC(2025, 5, 4, 22, 10), Date.UTC(2025, 5, 4, 22, 40)]);
  });

  it('knows nothing of hubs it has no pattern for', () => {
    expect(lineDepartures(tt, 'pfaff', 0, Date.UTC(2030, 0, 1))).toEqual([]);
  });
});
