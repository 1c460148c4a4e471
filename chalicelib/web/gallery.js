// The gallery: facets in the sidebar, the grid of matching images, infinite scroll.
// Every choice lives in the URL's fragment (app.js turns it into `state`).
import { api } from './api.js';
import { h, clear, fileName, formatBytes } from './dom.js';
import { picture } from './thumbs.js';

export const SEARCH = ['format', 'make', 'model', 'lens', 'keyword', 'orientation', 'has_gps',
  'taken_from', 'taken_to', 'min_size', 'max_size', 'min_width', 'min_height',
  'min_megapixels', 'sort', 'limit'];
const PAGE_SIZE = 30;
const $ = (id) => document.getElementById(id);
let generation = 0;
let nextPage = null;
let summary = null;

export async function loadFacets(navigate, state) {
  const [top, cameras, lenses, keywords] = await Promise.all([
    api('summary'), api('summary/cameras', { limit: 20 }),
    api('summary/lenses', { limit: 20 }), api('summary/keywords', { limit: 20 }),
  ]);
  summary = top.data;
  const facets = [
    ['Format', 'format', summary.types.map((t) => [t.format, t.format, t.count])],
    ['Camera', 'camera', cameras.data.values.map((v) => [v.label, v.label, v.count])],
    ['Lens', 'lens', lenses.data.values.map((v) => [v.label, v.label, v.count])],
    ['Year', 'year', (summary.years || []).map((y) => [String(y.year), String(y.year), y.count])],
    ['Orientation', 'orientation',
      Object.entries(summary.orientations || {}).map(([k, n]) => [k, k, n])],
    ['Location', 'has_gps', [['true', 'Has GPS', summary.with_gps ?? 0],
      ['false', 'No GPS', summary.total_images - (summary.with_gps ?? 0)]]],
    ['Keyword', 'keyword', keywords.data.values.map((v) => [v.label, v.label, v.count])],
  ];
  const box = clear($('facets'));
  for (const [title, name, values] of facets) {
    if (!values.length) continue;
    const list = h('ul', { class: 'facet' });
    for (const [value, label, count] of values) {
      const pressed = state.get(name) === value;
      list.append(h('li', {}, h('button', {
        type: 'button', 'aria-pressed': String(pressed), 'data-facet': name,
        onclick: () => { // against the URL as it is now, not as it was when drawn
          const next = new URLSearchParams(location.hash.slice(1));
          if (next.get(name) === value) next.delete(name); else next.set(name, value);
          next.delete('image');
          navigate(next);
        },
      }, h('span', { class: 'label' }, label), ' ', h('span', { class: 'n' }, count))));
    }
    box.append(h('section', { 'aria-label': title }, h('h2', {}, title), list));
  }
}

// The API's parameters for a state: a year is a date range, a camera its model.
function searchParams(state, camera = null) {
  // 30 fill a desktop screen; a bigger page only delays the first previews
  // (bench/bench_page.py). `limit` in the URL overrides it.
  const params = { limit: PAGE_SIZE };
  for (const name of SEARCH) if (state.get(name)) params[name] = state.get(name);
  const year = state.get('year');
  if (year && !params.taken_from && !params.taken_to) {
    params.taken_from = `${year}-01-01`;
    params.taken_to = `${year}-12-31`;
  }
  if (state.get('camera')) Object.assign(params, camera || { model: state.get('camera') });
  return params;
}

// A camera facet is "make model" with the make left out when the model repeats it:
// try the label as the model, then each split of it into make and model.
function cameraSplits(label) {
  const splits = [null];
  for (let i = label.indexOf(' '); i > 0; i = label.indexOf(' ', i + 1)) {
    splits.push({ make: label.slice(0, i), model: label.slice(i + 1) });
  }
  return splits;
}

function knownTotal(state) {
  const chosen = [...state.keys()].filter((k) => !['sort', 'image', 'limit', 'view'].includes(k));
  if (!summary) return null;
  if (!chosen.length) {
    return summary.total_images + summary.unsupported + summary.corrupt + summary.unreadable;
  }
  if (chosen.length !== 1) return null;
  const button = document.querySelector(`#facets button[data-facet="${CSS.escape(chosen[0])}"][aria-pressed="true"] .n`);
  return button ? Number(button.textContent) : null;
}

export async function showGallery(state, openDetails) {
  const mine = ++generation;
  const grid = clear($('grid'));
  $('error').textContent = '';
  $('count').textContent = 'Loading…';
  let page = null;
  for (const camera of state.get('camera') ? cameraSplits(state.get('camera')) : [null]) {
    page = await api('images', searchParams(state, camera));
    if (page.data.images.length || page.data.next_token) break;
  }
  if (mine !== generation) return;
  const params = searchParams(state);
  append(page.data, grid, openDetails);
  performance.mark('grid-first-page');
  nextPage = page.data.next_token ? { params, token: page.data.next_token, mine } : null;
  updateCount(state);
}

export async function loadMore(state, openDetails) {
  if (!nextPage || nextPage.mine !== generation) return;
  const { params, token, mine } = nextPage;
  nextPage = null;
  const page = await api('images', { ...params, next_token: token });
  if (mine !== generation) return;
  append(page.data, $('grid'), openDetails);
  nextPage = page.data.next_token ? { params, token: page.data.next_token, mine } : null;
  updateCount(state);
}

export function updateCount(state) {
  const shown = $('grid').children.length;
  const total = knownTotal(state);
  const more = nextPage ? ', more below' : '';
  $('count').textContent = total !== null && total >= shown
    ? `${total} matching image${total === 1 ? '' : 's'} (${shown} shown${more})`
    : `${shown} image${shown === 1 ? '' : 's'} shown${more}`;
  $('more').hidden = !nextPage;
}

function append(page, grid, openDetails) {
  for (const record of page.images) {
    const name = fileName(record.s3objectkey);
    const caption = record.status === 'ok'
      ? `${record.format} · ${formatBytes(record.size)}` : record.status;
    grid.append(h('li', {}, h('button', {
      type: 'button', class: 'tile', 'data-key': record.s3objectkey,
      onclick: (event) => openDetails(record.s3objectkey, event.currentTarget),
    }, picture(record, 256), h('span', { class: 'name' }, name), h('span', { class: 'meta' }, caption))));
  }
}

export const hasMore = () => Boolean(nextPage);
export const summaryNow = () => summary;
