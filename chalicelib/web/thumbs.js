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

export function hasPreview(record) {
  return Boolean(record && record.preview) && !record.preview_error;
}

export function picture(record, size, { lazy = true } = {}) {
  const frame = h('div', { class: 'picture' });
  if (isColour(record.average_color)) frame.style.backgroundColor = record.average_color;
  const placeholder = placeholderUrl(record.placeholder);
  if (placeholder) frame.append(h('img', { class: 'placeholder', src: placeholder, alt: '' }));
  if (hasPreview(record)) {
    const img = h('img', { class: 'preview', alt: altText(record), decoding: 'async' });
    if (lazy) img.loading = 'lazy';
    img.addEventListener('load', () => frame.classList.add('loaded'));
    img.addEventListener('error', () => img.remove()); // 202 (not yet) or 404: keep the tile
    frame.append(img);
    imageSource('images/preview', { s3objectkey: record.s3objectkey, size }).then((src) => {
      if (src) img.src = src; else img.remove();
    });
  } else {
    frame.setAttribute('role', 'img');
    frame.setAttribute('aria-label', altText(record));
  }
  return frame;
}
