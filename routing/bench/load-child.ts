/** Child process for the benchmark: loads the engine once (cold into a fresh cache dir, or warm) and reports time and peak RSS. */
import { RoutingEngine } from '../src/engine.ts';

const [mode, cacheDir] = process.argv.slice(2);
const t0 = performance.now();
const engine = await RoutingEngine.load({ cacheDir, rebuild: mode === 'cold' });
const millis = performance.now() - t0;
process.stdout.write(JSON.stringify({ millis, source: engine.info.source, maxRssMiB: process.resourceUsage().maxRSS / 1024, segments: engine.graph.numSegs }) + '\n');
