// The API, relative to the page (deployed, the page is at /api/, so are the routes).
const base = new URL('../', import.meta.url);
const KEY_STORAGE = 'image-metadata.api-key';

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}
// API Gateway's own 403 (no `Code`): no key, or a key it does not know.
export class KeyNeeded extends ApiError {}

export function apiUrl(path, params = {}) {
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  return url;
}

export const apiKey = () => localStorage.getItem(KEY_STORAGE);
export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
}

function keyHeaders() {
  const key = apiKey();
  return key ? { 'x-api-key': key } : {};
}

// {status, data} for 2xx; throws ApiError (plain message) or KeyNeeded otherwise.
export async function api(path, params = {}, init = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path, params), {
      ...init, headers: { ...keyHeaders(), ...(init.headers || {}) },
    });
  } catch {
    throw new ApiError('The service cannot be reached: is it running?', 0);
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { status: response.status, data };
  if (response.status === 403 && !(data && 'Code' in data)) {
    throw new KeyNeeded(apiKey()
      ? 'The service refused this API key. Check it and enter it again.'
      : 'This service needs an API key.', 403);
  }
  const message = (data && (data.Message || data.message)) || `The service answered ${response.status}.`;
  throw new ApiError(message, response.status);
}

// An image route as an <img> source: a plain URL, or with an API key (which an
// <img> cannot send) the bytes fetched with it, as a blob: URL.
export async function imageSource(path, params) {
  const url = apiUrl(path, params);
  if (!apiKey()) return url.href;
  const response = await fetch(url, { headers: keyHeaders() });
  if (response.status !== 200) return null;
  return URL.createObjectURL(await response.blob());
}

export async function downloadWithKey(key, filename) {
  const source = await imageSource('images/download', { s3objectkey: key });
  if (!source) return;
  const link = Object.assign(document.createElement('a'), { href: source, download: filename });
  link.click();
}
