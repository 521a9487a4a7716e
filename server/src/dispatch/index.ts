/**
 * Online dispatcher (pure core): requests → offers → confirmed promises on the fleet's plans, with
 * re-optimisation, rebalancing, battery and remote-driver constraints. See dispatcher.ts for the facade.
 */
export { Dispatcher, cutWindow } from './dispatcher.ts';
export type { ConfirmResult, DispatcherDeps, DispatcherSnapshot, NoShowResult, RequestOptions, TickResult } from './dispatcher.ts';
export { DEFAULT_CONFIG, dispatchConfigSchema, resolveConfig, rideRequestSchema } from './config.ts';
export type { DispatchConfig, DispatchConfigInput, Hub, ServiceArea } from './config.ts';
export { CachedOracle, CrowFlyOracle, MatrixOracle, haversineM } from './oracle.ts';
export type { OracleMatrix, TravelTimeOracle } from './oracle.ts';
export { lineDepartures, timetableSchema } from './timetable.ts';
export type { LineDeparture, Timetable, TimetablePattern } from './timetable.ts';
export {
  compareDecisions,
  estimateInsertion,
  findBestInsertion,
  forEachInsertion,
  generateInsertions,
  insertionCost,
  Stage,
} from './insertion.ts';
export type { Insertion, InsertionDecision, InsertionEstimate, InsertionRequest } from './insertion.ts';
export { buildVehicleEntry } from './vehicleEntry.ts';
export type { VehicleEntry } from './vehicleEntry.ts';
export { computeSchedule, findViolations } from './schedule.ts';
export type { PlanContext, Schedule, Violation } from './schedule.ts';
export type { ReoptimiseMove, ReoptimiseResult } from './reoptimise.ts';
export * from './types.ts';
