import createOsrmTextInstructions from 'osrm-text-instructions';
import type { OsrmLeg, OsrmStep } from './types.ts';

/**
 * The one place that turns OSRM steps into words, through osrm-text-instructions (v5 grammar).
 * German first, English as well; the package ships no types, so its surface is typed here.
 */
export type Lang = 'de' | 'en';
export const LANGUAGES: readonly Lang[] = ['de', 'en'];

interface OsrmTextInstructions {
  compile(language: string, step: OsrmStep, options?: { legCount?: number; legIndex?: number; waypointName?: string }): string;
}

const oti = (createOsrmTextInstructions as unknown as (version: string) => OsrmTextInstructions)('v5');

export function instructionFor(step: OsrmStep, lang: Lang, leg?: { legCount: number; legIndex: number }): string {
  return oti.compile(lang, step, leg ? { legCount: leg.legCount, legIndex: leg.legIndex } : undefined);
}

/** Adds `instruction` to every step of every leg (in place) and returns the legs. */
export function annotateLegs(legs: OsrmLeg[], lang: Lang): OsrmLeg[] {
  legs.forEach((leg, legIndex) => {
    for (const step of leg.steps) step.instruction = instructionFor(step, lang, { legCount: legs.length, legIndex });
  });
  return legs;
}
