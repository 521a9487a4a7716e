export { Geocoder, type GeocodeResult, type GeocodeKind, type SearchOptions } from './geocoder.ts';
export { extractGeocodeData, type GeocodeData } from './extract.ts';
export { geocoderFor, loadGeocoder, geocodeCachePath, GEOCODE_VERSION } from './load.ts';
export { normalize, normalizeTokens, editDistance, parseHouseNumber } from './normalize.ts';
