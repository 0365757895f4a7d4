// Server-rendered SVG charts: stacked bars over days and horizontal bars. Labels go through the
// escaping template like everything else; colours are presentation attributes (no inline CSS).
import { html, type Safe } from './html.ts';

export const PALETTE: Record<string, string> = {
  challenge: '#f4c542',
  review: '#e67e22',
  decline: '#c0392b',
  approve: '#7f8c8d',
  fraud: '#c0392b',
  legitimate: '#1e8449',
  escalated: '#b9770e',
  reversed: '#5d6d7e',
  bar: '#2456c5',
};

const W = 640;
const H = 220;
const PAD = { left: 40, right: 10, top: 10, bottom: 40 };

function niceMax(max: number): number {
  if (max <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

/** Days × series, stacked. `rows`: one value per (day, series). */
export function stackedBars(
  title: string,
  days: string[],
  series: string[],
  value: (day: string, s: string) => number,
): Safe {
  const totals = days.map((d) => series.reduce((sum, s) => sum + value(d, s), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = days.map((d, i) => {
    let acc = 0;
    return series.map((s) => {
      const v = value(d, s);
      if (v <= 0) return '';
      const top = y(acc + v);
      const bottom = y(acc);
      acc += v;
      return html`<rect
        x="${(PAD.left + i * slot + (slot - barW) / 2).toFixed(1)}"
        y="${top.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${(bottom - top).toFixed(1)}"
        fill="${PALETTE[s] ?? PALETTE.bar!}"
        ><title>${d} ${s}: ${v}</title></rect
      >`;
    });
  });
  const every = Math.max(1, Math.ceil(days.length / 8));
  const labels = days.map((d, i) =>
    i % every === 0
      ? html`<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle"
          >${d.slice(5)}</text
        >`
      : '',
  );
  const ticks = [0, 0.5, 1].map(
    (f) =>
      html`<text x="${PAD.left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${Math.round(max * f)}</text
        ><line
          x1="${PAD.left}"
          x2="${W - PAD.right}"
          y1="${y(max * f).toFixed(1)}"
          y2="${y(max * f).toFixed(1)}"
          stroke="#e3e6ec"
        />`,
  );
  return html`<figure>
    <svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}">${ticks}${bars}${labels}</svg>
    <figcaption class="legend">${series.map((s) => html`<span><i class="c-${s}"></i>${s}</span>`)}</figcaption>
  </figure>`;
}

/** Labelled horizontal bars, largest first. */
export function horizontalBars(title: string, items: { label: string; value: number }[], color = PALETTE.bar!): Safe {
  if (items.length === 0) return html`<p class="muted">No data yet.</p>`;
  const rowH = 24;
  const labelW = 230;
  const height = items.length * rowH + 10;
  const max = niceMax(Math.max(...items.map((i) => i.value)));
  const plotW = W - labelW - 50;
  return html`<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="${title}">
    ${items.map((item, i) => {
      const w = Math.max(1, (item.value / max) * plotW);
      const top = 5 + i * rowH;
      return html`<text x="${labelW - 8}" y="${top + 15}" text-anchor="end"
          >${item.label.length > 34 ? `${item.label.slice(0, 33)}…` : item.label}</text
        ><rect x="${labelW}" y="${top + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${color}"
          ><title>${item.label}: ${item.value}</title></rect
        ><text x="${(labelW + w + 6).toFixed(1)}" y="${top + 15}">${item.value}</text>`;
    })}
  </svg>`;
}

/** Vertical histogram with fixed buckets. */
export function histogram(title: string, buckets: { label: string; value: number }[]): Safe {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / buckets.length;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}">
    ${[0, 0.5, 1].map((f) => html`<text x="${PAD.left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${Math.round(max * f)}</text><line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(max * f).toFixed(1)}" y2="${y(max * f).toFixed(1)}" stroke="#e3e6ec" />`)}${buckets.map(
      (b, i) => {
        const x = PAD.left + i * slot + slot * 0.1;
        const shade = Math.round(200 - (i / Math.max(buckets.length - 1, 1)) * 150);
        return html`<rect
            x="${x.toFixed(1)}"
            y="${y(b.value).toFixed(1)}"
            width="${(slot * 0.8).toFixed(1)}"
            height="${(PAD.top + plotH - y(b.value)).toFixed(1)}"
            fill="rgb(${(230 - shade / 3) | 0},${shade},${(shade / 2) | 0})"
            ><title>${b.label}: ${b.value}</title></rect
          ><text x="${(x + slot * 0.4).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${b.label}</text>`;
      },
    )}
  </svg>`;
}
