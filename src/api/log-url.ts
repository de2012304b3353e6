// Request URLs as they may be logged: the path and the parameter names, never a value. Clients
// put secrets in query strings (`?token=…`, `?api_key=…`) whatever the documentation says.

/** `/x?token=abc&a=b#f` → `/x?token=[redacted]&a=[redacted]`. */
export function redactUrl(url: string): string {
  const hash = url.indexOf('#');
  const noHash = hash === -1 ? url : url.slice(0, hash);
  const q = noHash.indexOf('?');
  if (q === -1) return noHash;
  const params = noHash
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    });
  return `${noHash.slice(0, q)}?${params.join('&')}`;
}
