// The portal's in-app link and its navigation list, in a module of their own: pages import them
// without importing the shell (app.tsx), which imports every page.
import { navigate } from './router';
import type { UserRole } from './session';

/** Staff roles: everyone who works on incidents, not only reports problems. */
export const STAFF: readonly UserRole[] = ['agent', 'engineer', 'manager', 'admin'];
/** Every signed-in role. */
export const EVERYONE: readonly UserRole[] = ['reporter', ...STAFF];

/** The pages in the navigation, each shown to the roles that may use it (one line per page). */
export const NAV: { href: string; label: { en: string; de: string }; roles: readonly UserRole[] }[] = [
  { href: '/report', label: { en: 'Report a problem', de: 'Problem melden' }, roles: EVERYONE },
  { href: '/my-reports', label: { en: 'My reports', de: 'Meine Meldungen' }, roles: EVERYONE },
  { href: '/checks', label: { en: 'Checks', de: 'Prüfungen' }, roles: STAFF },
  { href: '/incidents', label: { en: 'Incidents', de: 'Störungen' }, roles: STAFF },
  { href: '/reports', label: { en: 'Reports', de: 'Berichte' }, roles: STAFF },
];

/** A link that changes the page without reloading it. */
export function Link({ href, children, class: cls }: { href: string; children: preact.ComponentChildren; class?: string }) {
  const current = typeof location !== 'undefined' && location.pathname === href;
  return (
    <a
      href={href}
      class={cls}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
