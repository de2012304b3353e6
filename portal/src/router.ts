// The pages' addresses. A handful of routes do not need a router library: the path is matched
// here, links push history entries, and the back button re-renders.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'home' }
  | { page: 'status'; tenant: string }
  | { page: 'incident'; number: string }
  | { page: 'checks' }
  | { page: 'signin' }
  | { page: 'incidents' }
  | { page: 'reports' }
  | { page: 'report' }
  | { page: 'my-reports' }
  | { page: 'not-found' };

export function routeOf(path: string): Route {
  if (path === '/' || path === '') return { page: 'home' };
  if (path === '/checks' || path === '/checks/') return { page: 'checks' };
  if (path === '/signin') return { page: 'signin' };
  if (path === '/incidents' || path === '/incidents/') return { page: 'incidents' };
  if (path === '/reports' || path === '/reports/') return { page: 'reports' };
  if (path === '/report' || path === '/report/') return { page: 'report' };
  if (path === '/my-reports' || path === '/my-reports/') return { page: 'my-reports' };
  const status = /^\/status\/([^/]+)\/?$/.exec(path);
  if (status?.[1] !== undefined) {
    try {
      return { page: 'status', tenant: decodeURIComponent(status[1]) };
    } catch {
      return { page: 'not-found' };
    }
  }
  const incident = /^\/incidents\/(INC-\d{6,})\/?$/.exec(path);
  if (incident?.[1] !== undefined) return { page: 'incident', number: incident[1] };
  return { page: 'not-found' };
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const changed = () => setPath(location.pathname);
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return routeOf(path);
}
