// What the page shows, kept in its address (?file=ioi.circuit&run=saved:ioi) so that a reload,
// a bookmark or a link a colleague sends opens the same file and run. Other parameters (the
// access token) are left as they are.
export interface UrlState {
  file: string | null;
  run: string | null;
}

export function readUrlState(): UrlState {
  const params = new URLSearchParams(window.location.search);
  return { file: params.get('file'), run: params.get('run') };
}

export function writeUrlState(change: Partial<UrlState>): void {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(change)) {
    if (value) url.searchParams.set(key, value);
    else url.searchParams.delete(key);
  }
  if (url.href === window.location.href) return;
  try {
    window.history.replaceState(window.history.state, '', url);
  } catch {
    // Some browsers refuse to change a file:// page's address; the page works the same without.
  }
}
