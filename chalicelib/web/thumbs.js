// A picture for a record: the stored placeholder (ThumbHash) or a neutral tile at
// once, the preview on top when the service has one. Never the original.
import { thumbHashToDataURL } from './vendor/thumbhash/thumbhash.js';
import { h, altText, isColour } from './dom.js';
import { imageSource } from './api.js';

export function placeholderUrl(base64) {
  if (typeof base64 !== 'string' || !base64) return null;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

// The preview size to ask for: the one wanted, else the biggest the record has
// (a small image may have fewer); null when the pixel stage made none (yet).
export function previewSize(record, wanted) {
  if (!record || record.preview_error || record.preview_skipped) return null;
  const sizes = Object.keys(record.preview || {}).map(Number).sort((a, b) => b - a);
  if (!sizes.length) return null;
  return sizes.includes(wanted) ? wanted : sizes[0];
}

export function picture(record, wanted, { lazy = true } = {}) {
  const frame = h('div', { class: 'picture' });
  if (isColour(record.average_color)) frame.style.backgroundColor = record.average_color;
  const placeholder = placeholderUrl(record.placeholder);
  if (placeholder) frame.append(h('img', { class: 'placeholder', src: placeholder, alt: '' }));
  const size = previewSize(record, wanted);
  if (size) {
    // elementtiming: the browser records when each preview is painted (bench/bench_page.py).
    const img = h('img', { class: 'preview', alt: altText(record), decoding: 'async', elementtiming: `preview-${wanted}` });
    if (lazy) img.loading = 'lazy';
    img.addEventListener('load', () => frame.classList.add('loaded'));
    img.addEventListener('error', () => img.remove()); // 202 (not yet) or 404: keep the tile
    frame.append(img);
    imageSource('images/preview', { s3objectkey: record.s3objectkey, size, etag: record.etag }).then((src) => {
      if (src) img.src = src; else img.remove();
    });
  } else {
    frame.setAttribute('role', 'img');
    frame.setAttribute('aria-label', altText(record));
  }
  return frame;
}
