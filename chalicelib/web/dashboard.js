// The dashboard: /summary and the timeline as bar charts. The bars are plain
// elements (a label, a bar whose width is the share, the number as text), so
// they need no chart library, read well in a screen reader and at 375 px.
import { api } from './api.js';
import { h, clear, fileName, formatBytes } from './dom.js';
import { picture } from './thumbs.js';

function bars(title, rows, format = String) {
  if (!rows.length) return null;
  const max = Math.max(1, ...rows.map((r) => r.count));
  return h('figure', { class: 'chart' }, h('figcaption', {}, title),
    h('ul', { class: 'bars' }, rows.map(({ label, count }) => {
      const fill = h('span', { class: 'fill' });
      fill.style.width = `${(100 * count) / max}%`;
      return h('li', {}, h('span', { class: 'label' }, label), h('span', { class: 'bar', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'value' }, format(count)));
    })));
}

const range = (lo, hi, unit) => (hi === null ? `≥ ${lo} ${unit}` : `${lo}–${hi} ${unit}`);

function extreme(title, item, openDetails) {
  if (!item) return null;
  return h('figure', { class: 'extreme' }, h('figcaption', {}, title),
    h('button', { type: 'button', class: 'tile', onclick: (e) => openDetails(item.s3objectkey, e.currentTarget) },
      picture(item, 256), h('span', { class: 'name' }, fileName(item.s3objectkey)),
      h('span', { class: 'meta' }, `${formatBytes(item.size)} · ${item.width} × ${item.height}`)));
}

export async function showDashboard(openDetails) {
  const view = document.getElementById('dashboard-view');
  const started = performance.now();
  const [{ data: s }, { data: months }] = await Promise.all([
    api('summary'), api('summary/timeline', { by: 'month', limit: 100 }),
  ]);
  // The extremes' own records carry their previews and placeholders.
  const [biggest, smallest] = await Promise.all([s.biggest, s.smallest].map((item) => (item
    ? api('images', { s3objectkey: item.s3objectkey }).then(({ data }) => ({ ...item, ...data }), () => item)
    : null)));
  const total = s.total_images;
  const gpsShare = total ? Math.round((100 * s.with_gps) / total) : 0;
  const tiles = [['Images', total], ['Bytes', formatBytes(s.total_bytes)],
    ['With GPS', `${s.with_gps} (${gpsShare}%)`], ['Unsupported', s.unsupported],
    ['Corrupt', s.corrupt], ['Unreadable', s.unreadable]];
  if (s.duplicates) {
    tiles.push(['Duplicate groups', s.duplicates.groups], ['Wasted by duplicates', formatBytes(s.duplicates.wasted_bytes)]);
  }
  clear(view).append(
    h('h2', {}, 'Dashboard'),
    h('dl', { class: 'totals' }, tiles.map(([name, value]) => h('div', { 'data-total': name }, h('dt', {}, name), h('dd', {}, value)))),
    h('div', { class: 'charts' },
      bars('Types', s.types.map((t) => ({ label: t.format, count: t.count }))),
      bars('Cameras', (s.cameras?.top || []).map((v) => ({ label: v.label, count: v.count }))),
      bars('Lenses', (s.lenses?.top || []).map((v) => ({ label: v.label, count: v.count }))),
      bars('Keywords', (s.keywords?.top || []).map((v) => ({ label: v.label, count: v.count }))),
      bars('Images per year', (s.years || []).map((y) => ({ label: String(y.year), count: y.count }))),
      bars('Images per month', (months.entries || []).map((m) => ({ label: m.period, count: m.count }))),
      bars('Resolution', (s.resolution || []).map((r) => ({ label: range(r.min_megapixels, r.max_megapixels, 'MP'), count: r.count }))),
      bars('File size', (s.size || []).map((r) => ({ label: r.max_bytes === null ? `≥ ${formatBytes(r.min_bytes)}` : `< ${formatBytes(r.max_bytes)}`, count: r.count }))),
      bars('Orientation', Object.entries(s.orientations || {}).map(([label, count]) => ({ label, count })))),
    h('div', { class: 'extremes' }, extreme('Biggest', biggest, openDetails), extreme('Smallest', smallest, openDetails)));
  performance.measure('dashboard', { start: started });
}
