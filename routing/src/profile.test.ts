import { describe, expect, it } from 'vitest';
import { carAccess, drivableClass, onewayOf, parseMaxspeed, turnPenaltySeconds, wayspeedKmh } from './profile.ts';

describe('car profile', () => {
  it('parses maxspeed numbers, units and German zone values', () => {
    expect(parseMaxspeed('50')).toBe(50);
    expect(parseMaxspeed('30 km/h')).toBe(30);
    expect(parseMaxspeed('20 mph')).toBeCloseTo(32.19, 2);
    expect(parseMaxspeed('DE:urban')).toBe(50);
    expect(parseMaxspeed('DE:rural')).toBe(100);
    expect(parseMaxspeed('DE:living_street')).toBe(7);
    expect(parseMaxspeed('walk')).toBe(7);
    expect(parseMaxspeed('signals')).toBeNull();
    expect(parseMaxspeed('fast')).toBeNull();
    expect(parseMaxspeed(undefined)).toBeNull();
  });

  it('uses 80% of a posted limit, the class default without one, and never exceeds the bus top speed', () => {
    expect(wayspeedKmh({ highway: 'primary', maxspeed: '50' }, 'primary', 'forward')).toBe(40);
    expect(wayspeedKmh({ highway: 'residential' }, 'residential', 'forward')).toBe(25);
    expect(wayspeedKmh({ highway: 'motorway', maxspeed: '130' }, 'motorway', 'forward')).toBe(80);
    expect(wayspeedKmh({ highway: 'primary', maxspeed: '50', 'maxspeed:backward': '30' }, 'primary', 'backward')).toBe(24);
  });

  it('reads oneway values and implies them on roundabouts and motorways', () => {
    expect(onewayOf({ oneway: 'yes' }, 'residential')).toBe('forward');
    expect(onewayOf({ oneway: '1' }, 'residential')).toBe('forward');
    expect(onewayOf({ oneway: '-1' }, 'residential')).toBe('backward');
    expect(onewayOf({ junction: 'roundabout' }, 'tertiary')).toBe('forward');
    expect(onewayOf({}, 'motorway')).toBe('forward');
    expect(onewayOf({ junction: 'roundabout', oneway: 'no' }, 'tertiary')).toBe('no');
    expect(onewayOf({}, 'residential')).toBe('no');
  });

  it('excludes private and no access, allows destination, and lets a specific yes win', () => {
    expect(carAccess({ access: 'private' })).toBe('no');
    expect(carAccess({ motor_vehicle: 'no' })).toBe('no');
    expect(carAccess({ access: 'no', motorcar: 'yes' })).toBe('yes');
    expect(carAccess({ access: 'destination' })).toBe('destination');
    expect(carAccess({ vehicle: 'destination' })).toBe('destination');
    expect(drivableClass({ highway: 'residential', access: 'private' })).toBeNull();
    expect(drivableClass({ highway: 'footway' })).toBeNull();
    expect(drivableClass({ highway: 'service', service: 'parking_aisle' })).toBeNull();
    expect(drivableClass({ highway: 'living_street' })).toBe('living_street');
  });

  it('charges more for left than right turns and most for a U-turn', () => {
    expect(turnPenaltySeconds(0)).toBeLessThan(0.2);
    expect(turnPenaltySeconds(-90)).toBeGreaterThan(turnPenaltySeconds(90));
    expect(turnPenaltySeconds(180)).toBeGreaterThan(turnPenaltySeconds(-150));
  });
});
