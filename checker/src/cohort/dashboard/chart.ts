import { html, raw, type SafeHtml } from './html';

/**
 * A small inline SVG line chart (no script, no library): `values` from oldest to newest, drawn
 * between 0 and `max`. The label is its accessible name; the page shows the numbers too.
 */
export function lineChart(o: {
  values: number[];
  max: number;
  label: string;
  width?: number;
  height?: number;
  dots?: boolean;
}): SafeHtml {
  const width = o.width ?? 320;
  const height = o.height ?? 80;
  const pad = 4;
  const n = o.values.length;
  const x = (i: number): number => (n <= 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1));
  const y = (v: number): number =>
    height - pad - (o.max > 0 ? (v / o.max) * (height - 2 * pad) : 0);
  const points = o.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return html`<svg
    class="chart"
    role="img"
    aria-label="${o.label}"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
  >
    <title>${o.label}</title>
    <line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" class="axis" />
    <line x1="${pad}" y1="${pad}" x2="${width - pad}" y2="${pad}" class="grid-line" />
    ${n > 1 ? html`<polyline points="${points}" class="line" />` : ''}
    ${
      o.dots === false
        ? ''
        : raw(
            o.values
              .map(
                (v, i) =>
                  `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" class="dot" />`,
              )
              .join(''),
          )
    }
  </svg>`;
}
