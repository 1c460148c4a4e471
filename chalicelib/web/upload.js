// Uploads: each file gets a presigned POST (POST /uploads), goes straight to S3
// with its own progress bar, then is "pending" until its record exists.
import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { picture } from './thumbs.js';

const POLL_MS = 500;
const POLL_LIMIT_MS = 60_000;
const PREVIEW_WAIT_MS = 20_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function s3Error(xhr) {
  const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText || '');
  if (code && code[1] === 'EntityTooLarge') return 'Too big for this service.';
  if (xhr.status === 0) return 'The storage service cannot be reached.';
  return `The storage service refused the file (${code ? code[1] : xhr.status}).`;
}

function post(form, file, progress) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append('file', file); // S3 wants the file last
    const xhr = new XMLHttpRequest();
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener('load', () => (xhr.status < 300 ? resolve() : reject(new Error(s3Error(xhr)))));
    xhr.addEventListener('error', () => reject(new Error(s3Error(xhr))));
    xhr.open('POST', form.url);
    xhr.send(body);
  });
}

function plainReason(error) {
  if (!(error instanceof ApiError)) return error.message;
  if (/content_type/.test(error.message)) return 'Not an image type this service reads.';
  if (error.status === 0) return 'The service cannot be reached: is it running?';
  return error.message;
}

// The pixel stage runs after the record: wait a little for the preview it makes.
async function withPixels(record) {
  const done = (r) => r.preview || r.preview_error || r.preview_skipped;
  for (let waited = 0; !done(record) && waited < PREVIEW_WAIT_MS; waited += POLL_MS) {
    await sleep(POLL_MS);
    const { status, data } = await api('images', { s3objectkey: record.s3objectkey });
    if (status === 200) record = data;
  }
  return record;
}

async function uploadOne(file, row, onIndexed) {
  const status = row.querySelector('.status');
  const progress = row.querySelector('progress');
  const say = (text, state) => { status.textContent = text; row.dataset.state = state; };
  try {
    say('uploading', 'uploading');
    const { data: form } = await api('uploads', {}, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filename: file.name, content_type: file.type || 'application/octet-stream' }),
    });
    await post(form, file, progress);
    progress.value = 100;
    say('pending', 'pending');
    const until = Date.now() + POLL_LIMIT_MS;
    for (;;) {
      const { status: code, data } = await api('images', { s3objectkey: form.s3objectkey });
      if (code === 200) {
        say(data.status === 'ok' ? 'indexed' : `indexed: ${data.status} (${data.error || 'no reason given'})`, 'indexed');
        onIndexed();
        row.append(picture(data.status === 'ok' ? await withPixels(data) : data, 256));
        return;
      }
      if (Date.now() > until) { say('still pending: the service is slow, look again later', 'pending'); return; }
      await sleep(POLL_MS);
    }
  } catch (error) {
    say(plainReason(error), 'failed');
  }
}

export function setUpUpload(onIndexed) {
  const zone = document.getElementById('drop-zone');
  const input = document.getElementById('file-input');
  const list = document.getElementById('upload-list');
  const start = (files) => {
    for (const file of files) {
      const row = h('li', { class: 'upload' }, h('span', { class: 'name' }, file.name),
        h('progress', { max: '100', value: '0', 'aria-label': `Upload of ${file.name}` }), h('span', { class: 'status' }));
      list.prepend(row);
      uploadOne(file, row, onIndexed);
    }
  };
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); start(e.dataTransfer.files); });
  zone.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  input.addEventListener('change', () => { start(input.files); input.value = ''; });
}
