// The served workbench is opened as http://127.0.0.1:N/?token=T (like a notebook server). The
// token is taken from the address once, kept for this tab only, and removed from the address bar
// so it does not end up in history, bookmarks or screenshots.
const KEY = 'artiphys.token';

export function takeTokenFromAddress(loc: Location = window.location, store: Storage = window.sessionStorage): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    store.setItem(KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  // Without one, the server's HttpOnly cookie (set when the page was first served) still admits us.
  return store.getItem(KEY);
}
