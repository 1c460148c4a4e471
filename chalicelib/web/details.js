// The details panel: preview, file facts, camera, exposure, place, colours,
// XMP/IPTC, the whole EXIF table, download and duplicates. Text nodes only.
import { api, apiKey, apiUrl, downloadWithKey } from './api.js';
import { h, append, clear, fileName, formatBytes, isColour } from './dom.js';
import { picture } from './thumbs.js';

const panel = () => document.getElementById('details');
let returnFocus = null;

function facts(rows) {
  const present = rows.filter(([, value]) => value !== null && value !== undefined && value !== '');
  if (!present.length) return null;
  return h('dl', {}, present.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
}

function section(title, ...content) {
  const body = content.filter(Boolean);
  return body.length ? h('section', {}, h('h3', {}, title), body) : null;
}

const list = (values) => (Array.isArray(values) && values.length ? values.join(', ') : null);

function exposure(e) {
  if (!e) return [];
  const time = e.exposure_time
    ? (e.exposure_time < 1 ? `1/${Math.round(1 / e.exposure_time)} s` : `${e.exposure_time} s`) : null;
  return [['Exposure', time], ['Aperture', e.f_number ? `f/${e.f_number}` : null],
    ['ISO', e.iso], ['Focal length', e.focal_length ? `${e.focal_length} mm` : null],
    ['35 mm equivalent', e.focal_length_35mm ? `${e.focal_length_35mm} mm` : null],
    ['Flash', e.flash_fired === null || e.flash_fired === undefined ? null : (e.flash_fired ? 'fired' : 'did not fire')]];
}

function location(gps) {
  if (!gps) return null;
  const { latitude: lat, longitude: lon } = gps;
  const osm = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
  const map = h('div', { class: 'map', role: 'img', 'aria-label': `Map around ${lat}, ${lon}` });
  // Leaflet only when needed; without tiles (offline) the marker still shows.
  import('./vendor/leaflet/leaflet-src.esm.js').then((L) => {
    const view = L.map(map, { attributionControl: true }).setView([lat, lon], 13);
    L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
      maxZoom: 19, attribution: '© OpenStreetMap contributors',
    }).addTo(view);
    L.circleMarker([lat, lon], { radius: 8 }).addTo(view);
  }).catch(() => map.remove());
  return section('Location',
    facts([['Latitude', lat], ['Longitude', lon], ['Altitude', gps.altitude === null ? null : `${gps.altitude} m`]]),
    map, h('a', { href: osm, rel: 'noopener noreferrer', target: '_blank' }, 'Open in OpenStreetMap'));
}

function colours(record) {
  const swatches = (record.dominant_colors || []).filter((c) => isColour(c.color));
  if (!isColour(record.average_color) && !swatches.length) return null;
  const swatch = (colour, label) => {
    const chip = h('span', { class: 'chip', 'aria-hidden': 'true' });
    chip.style.backgroundColor = colour;
    return h('li', {}, chip, label);
  };
  return section('Colours', h('ul', { class: 'swatches' },
    isColour(record.average_color) ? swatch(record.average_color, `average ${record.average_color}`) : null,
    swatches.map((c) => swatch(c.color, `${c.color} ${Math.round(c.share * 100)}%`))));
}

function exifTable(exif) {
  if (!exif || !Object.keys(exif).length) return null;
  const rows = Object.entries(exif).map(([tag, value]) => h('tr', {}, h('th', { scope: 'row' }, tag),
    h('td', {}, typeof value === 'object' ? JSON.stringify(value) : String(value))));
  return h('details', { class: 'exif' }, h('summary', {}, `EXIF (${rows.length} tags)`),
    h('table', {}, h('tbody', {}, rows)));
}

async function duplicates(record, openDetails) {
  if (!record.content_sha256 && !record.phash) return null;
  const box = h('section', { hidden: true }, h('h3', {}, 'Duplicates'));
  api('images/duplicates', { s3objectkey: record.s3objectkey }).then(({ status, data }) => {
    if (status !== 200 || !data) return;
    const keyOf = (item) => (typeof item === 'string' ? item : item.s3objectkey || item.key);
    const items = [...(data.exact || []).map((item) => [keyOf(item), 'identical bytes']),
      ...(data.near || []).map((item) => [keyOf(item), `looks alike (distance ${item.distance})`])];
    if (!items.length) return;
    box.append(h('ul', {}, items.map(([key, why]) => h('li', {},
      h('button', { type: 'button', class: 'link', onclick: () => openDetails(key) }, fileName(key)), ` — ${why}`))));
    box.hidden = false;
  }).catch(() => {});
  return box;
}

function downloadButton(record) {
  const name = fileName(record.s3objectkey);
  if (apiKey()) {
    return h('button', { type: 'button', onclick: () => downloadWithKey(record.s3objectkey, name) }, 'Download original');
  }
  return h('a', { class: 'button', href: apiUrl('images/download', { s3objectkey: record.s3objectkey }).href, download: name }, 'Download original');
}

export async function openDetails(key, openOther, opener) {
  const box = panel();
  if (opener) returnFocus = opener;
  const { status, data: record } = await api('images', { s3objectkey: key });
  const camera = record.camera || {};
  const xmp = record.xmp || {};
  const iptc = record.iptc || {};
  append(clear(box), [
    h('div', { class: 'panel-head' },
      h('h2', { id: 'details-title', tabindex: '-1' }, fileName(key)),
      h('button', { type: 'button', class: 'close', 'aria-label': 'Close details', onclick: () => closeDetails() }, '×')),
    status === 202 ? h('p', {}, 'Uploaded, not indexed yet.') : null,
    picture(record, 1024, { lazy: false }),
    downloadButton(record),
    section('File', facts([['Key', record.s3objectkey], ['Status', record.status], ['Problem', record.error],
      ['Format', record.format], ['Type', record.mime_type], ['Size', formatBytes(record.size)],
      ['Dimensions', record.width ? `${record.display_width} × ${record.display_height}` : null],
      ['Megapixels', record.megapixels ? record.megapixels.toFixed(record.megapixels < 1 ? 3 : 1) : null],
      ['Colour profile', record.icc_profile], ['Uploaded', record.last_modified]])),
    section('Camera', facts([['Make', camera.make], ['Model', camera.model], ['Lens', camera.lens],
      ['Software', camera.software], ['Taken', record.taken_at], ...exposure(record.exposure)])),
    location(record.gps),
    colours(record),
    section('Description', facts([['Title', xmp.title], ['Description', xmp.description],
      ['Keywords', list(xmp.keywords)], ['Creator', list(xmp.creator)], ['Rating', xmp.rating],
      ['IPTC caption', iptc.caption], ['IPTC keywords', list(iptc.keywords)], ['By-line', list(iptc.byline)]])),
    exifTable(record.exif),
    await duplicates(record, openOther),
  ]);
  box.hidden = false;
  document.getElementById('details-title').focus();
}

export function closeDetails(navigateBack = true) {
  const box = panel();
  if (box.hidden) return;
  box.hidden = true;
  clear(box);
  if (navigateBack) document.dispatchEvent(new CustomEvent('details-closed'));
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
}
