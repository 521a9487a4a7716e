export * from './types.ts';
export * from './latency.ts';
export * from './mrmDynamics.ts';
export * from './controlCenter.ts';
export * from './vehicleSafety.ts';
export * from './protocol.ts';
