import { beforeAll, describe, expect, it } from 'vitest';
import type { RoutingEngine } from '../engine.ts';
import { testEngine } from '../testing/engine.ts';
import fixture from './fixtures/german-instructions.json' with { type: 'json' };
import { instructionFor } from './instructions.ts';
import type { OsrmStep } from './types.ts';

let engine: RoutingEngine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('German turn instructions on Kaiserslautern streets (pinned fixtures)', () => {
  it('the fixtures cover at least 10 manoeuvres of varied types', () => {
    const all = fixture.routes.flatMap((r) => r.instructions.filter((i) => i.type !== 'depart' && i.type !== 'arrive'));
    expect(all.length).toBeGreaterThanOrEqual(10);
    const types = new Set(all.map((i) => i.type));
    for (const t of ['turn', 'new name', 'end of road', 'fork', 'roundabout']) expect(types).toContain(t);
  });

  it.each(fixture.routes.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const res = engine.route([{ lat: r.from[0], lon: r.from[1] }, { lat: r.to[0], lon: r.to[1] }], { lang: 'de' });
    expect(res.code).toBe('Ok');
    const got = res.routes[0].legs[0].steps.map((s) => ({ type: s.maneuver.type, modifier: s.maneuver.modifier, ...(s.maneuver.exit ? { exit: s.maneuver.exit } : {}), de: s.instruction }));
    expect(got).toEqual(r.instructions);
  });
});

describe('instruction wrapper', () => {
  const step = (maneuver: Partial<OsrmStep['maneuver']>, name = 'Trippstadter Straße', ref?: string): OsrmStep => ({
    distance: 100,
    duration: 10,
    weight: 10,
    name,
    ...(ref ? { ref } : {}),
    mode: 'driving',
    driving_side: 'right',
    geometry: { type: 'LineString', coordinates: [] },
    maneuver: { type: 'turn', location: [7.75, 49.43], bearing_before: 0, bearing_after: 90, ...maneuver },
    intersections: [],
  });
  it('speaks German and English for the same step, with the road reference', () => {
    const s = step({ type: 'turn', modifier: 'left' }, 'Trippstadter Straße', 'L 503');
    expect(instructionFor(s, 'de')).toBe('Links abbiegen auf Trippstadter Straße (L 503)');
    expect(instructionFor(s, 'en')).toBe('Turn left onto Trippstadter Straße (L 503)');
  });
  it('names the roundabout exit by its ordinal', () => {
    expect(instructionFor(step({ type: 'roundabout', modifier: 'right', exit: 2 }, 'Konrad-Adenauer-Straße'), 'de')).toBe(
      'Im Kreisverkehr die zweite Ausfahrt nehmen auf Konrad-Adenauer-Straße',
    );
  });
  it('says on which side the destination is', () => {
    expect(instructionFor(step({ type: 'arrive', modifier: 'right' }), 'de', { legCount: 1, legIndex: 0 })).toBe('Sie haben Ihr Ziel erreicht, es befindet sich rechts');
  });
});
