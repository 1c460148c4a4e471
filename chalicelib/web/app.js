// The page's entry point: the URL fragment is the state (view, filters, open
// image), so links are shareable and the back button works.
import { KeyNeeded, setApiKey } from './api.js';
import { hasMore, loadFacets, loadMore, showGallery, SEARCH, updateCount } from './gallery.js';
import { closeDetails, openDetails } from './details.js';
import { showDashboard } from './dashboard.js';
import { setUpUpload } from './upload.js';

const $ = (id) => document.getElementById(id);
const FILTERS = ['taken_from', 'taken_to', 'min_size', 'max_size', 'min_width', 'min_height', 'min_megapixels', 'sort'];
let shownSearch = null; // the filters the grid shows, to redraw it only when they change

const readState = () => new URLSearchParams(location.hash.slice(1));
function navigate(state) {
  const hash = state.toString();
  if (hash !== location.hash.slice(1)) location.hash = hash;
}

function withImage(key) {
  const state = readState();
  state.set('image', key);
  navigate(state);
}

async function guarded(work) {
  try {
    $('key-prompt').hidden = true;
    await work();
  } catch (error) {
    if (error instanceof KeyNeeded) {
      $('key-message').textContent = error.message;
      $('key-prompt').hidden = false;
      $('key-input').focus();
    } else {
      $('error').textContent = error.message;
      console.warn(error);
    }
  }
}

let renders = 0;
async function render() {
  const mine = ++renders;
  const state = readState();
  const dashboard = state.get('view') === 'dashboard';
  $('gallery-view').hidden = dashboard;
  $('dashboard-view').hidden = !dashboard;
  $('nav-dashboard').toggleAttribute('aria-current', dashboard);
  $('nav-gallery').toggleAttribute('aria-current', !dashboard);
  await guarded(async () => {
    if (dashboard) {
      await showDashboard((key, opener) => withImage(key, opener));
    } else {
      for (const name of FILTERS) $(name).value = state.get(name) || '';
      const search = [...SEARCH, 'camera', 'year'].map((n) => `${n}=${state.get(n) || ''}`).join('&');
      if (search !== shownSearch) {
        shownSearch = search;
        // The grid first: its previews should not wait behind the facets' requests.
        await showGallery(state, openFrom);
        await loadFacets(navigate, state);
        updateCount(state); // the total comes with the facets
        await fillScreen();
      }
    }
    if (mine !== renders) return; // a newer URL is being drawn
    const image = state.get('image');
    if (image) await openDetails(image, (key) => withImage(key), document.activeElement);
    else closeDetails(false);
  });
}

function openFrom(key, tile) {
  withImage(key);
  return tile;
}

// Infinite scroll: fetch pages while the end of the grid is near the screen (the
// observer fires only when that changes, so keep going until it is not).
const AHEAD_PX = 400;
async function fillScreen() {
  while (hasMore() && $('more').getBoundingClientRect().top < innerHeight + AHEAD_PX) {
    await loadMore(readState(), openFrom);
  }
}

function setUpFilters() {
  $('filters').addEventListener('change', (event) => {
    const state = readState();
    const { name, value } = event.target;
    if (!name) return;
    if (value) state.set(name, value); else state.delete(name);
    state.delete('image');
    navigate(state);
  });
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('clear-filters').addEventListener('click', () => navigate(new URLSearchParams()));
  $('more').addEventListener('click', () => guarded(() => loadMore(readState(), openFrom)));
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) guarded(fillScreen);
  }, { rootMargin: `${AHEAD_PX}px` }).observe($('more'));
}

// Arrow keys move between tiles (Tab still works); Escape closes the panel.
function setUpKeyboard() {
  $('grid').addEventListener('keydown', (event) => {
    const tiles = [...document.querySelectorAll('#grid .tile')];
    const at = tiles.indexOf(document.activeElement);
    if (at < 0) return;
    const columns = tiles.filter((t) => t.offsetTop === tiles[0].offsetTop).length || 1;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
    if (!step) return;
    event.preventDefault();
    tiles[Math.max(0, Math.min(tiles.length - 1, at + step))].focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('details').hidden) closeDetails();
  });
  document.addEventListener('details-closed', () => {
    const state = readState();
    state.delete('image');
    navigate(state);
  });
}

function setUpToggles() {
  for (const [button, target] of [['filters-toggle', 'sidebar'], ['upload-toggle', 'upload']]) {
    $(button).addEventListener('click', () => {
      const open = $(button).getAttribute('aria-expanded') !== 'true';
      $(button).setAttribute('aria-expanded', String(open));
      $(target).classList.toggle('open', open);
      if (target === 'upload') $(target).hidden = !open;
    });
  }
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setApiKey($('key-input').value.trim());
    $('key-input').value = '';
    shownSearch = null;
    render();
  });
}

setUpFilters();
setUpKeyboard();
setUpToggles();
setUpUpload(() => { shownSearch = null; if (!readState().get('image')) render(); });
window.addEventListener('hashchange', render);
render();
