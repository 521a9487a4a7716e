declare module 'osrm-text-instructions' {
  const factory: (version: string) => unknown;
  export default factory;
}
