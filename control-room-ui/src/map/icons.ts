import type { Map as MLMap } from 'maplibre-gl';
import { MODE_COLOUR } from '../i18n.ts';

/**
 * Icons drawn on a canvas at run time, so the map needs no sprite or glyph server: a heading arrow per mode
 * colour, and one label image per bus (text drawn into the image, since symbol text would need glyphs).
 */
const RATIO = 2;

export function ensureArrowIcons(map: MLMap): void {
  for (const [mode, colour] of Object.entries(MODE_COLOUR)) {
    const id = `arrow-${mode}`;
    if (map.hasImage(id)) continue;
    const size = 36 * RATIO;
    const c = document.createElement('canvas');
    c.width = c.height = size;
    const g = c.getContext('2d')!;
    g.translate(size / 2, size / 2);
    g.beginPath();
    g.moveTo(0, -15 * RATIO);
    g.lineTo(11 * RATIO, 13 * RATIO);
    g.lineTo(0, 7 * RATIO);
    g.lineTo(-11 * RATIO, 13 * RATIO);
    g.closePath();
    g.fillStyle = colour;
    g.strokeStyle = '#0b1220';
    g.lineWidth = 2.5 * RATIO;
    g.stroke();
    g.fill();
    map.addImage(id, g.getImageData(0, 0, size, size), { pixelRatio: RATIO });
  }
}

export function ensureLabelIcon(map: MLMap, id: string, text: string): string {
  const key = `label-${id}`;
  if (map.hasImage(key)) return key;
  const c = document.createElement('canvas');
  const g = c.getContext('2d')!;
  const font = `${12 * RATIO}px system-ui, sans-serif`;
  g.font = font;
  const w = Math.ceil(g.measureText(text).width) + 10 * RATIO;
  const h = 18 * RATIO;
  c.width = w;
  c.height = h;
  g.font = font;
  g.fillStyle = 'rgba(11,18,32,0.85)';
  g.strokeStyle = '#94a3b8';
  g.lineWidth = RATIO;
  g.beginPath();
  g.roundRect(RATIO / 2, RATIO / 2, w - RATIO, h - RATIO, 4 * RATIO);
  g.fill();
  g.stroke();
  g.fillStyle = '#e2e8f0';
  g.textBaseline = 'middle';
  g.fillText(text, 5 * RATIO, h / 2 + RATIO / 2);
  map.addImage(key, g.getImageData(0, 0, w, h), { pixelRatio: RATIO });
  return key;
}

export function ensureDotIcon(map: MLMap, id: string, fill: string, stroke: string, r = 7): void {
  if (map.hasImage(id)) return;
  const size = (r * 2 + 4) * RATIO;
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d')!;
  g.beginPath();
  g.arc(size / 2, size / 2, r * RATIO, 0, Math.PI * 2);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 2 * RATIO;
  g.strokeStyle = stroke;
  g.stroke();
  map.addImage(id, g.getImageData(0, 0, size, size), { pixelRatio: RATIO });
}
