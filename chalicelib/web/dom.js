// DOM building without HTML strings: every value becomes a property, an attribute
// or a text node, so a metadata string can never become markup.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

// "uploads/3ff472da08bb4536-my photo.jpg" -> "my photo.jpg"
export function fileName(key) {
  const base = key.slice(key.lastIndexOf('/') + 1);
  return base.replace(/^[0-9a-f]{16}-/, '') || key;
}

// Alt text: the picture's own title or description, else its file name.
export function altText(record) {
  const xmp = record.xmp || {};
  const iptc = record.iptc || {};
  return xmp.title || xmp.description || iptc.caption || fileName(record.s3objectkey);
}

export function isColour(value) {
  return typeof value === 'string' && /^#[0-9a-fA-F]{6}$/.test(value);
}
