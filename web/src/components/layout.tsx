import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { useSession } from '../session';

const NAV = [
  ['/tokens', 'Tokens'],
  ['/customers', 'Customers'],
  ['/licenses', 'Licenses'],
  ['/usage', 'Usage'],
  ['/users', 'Users'],
  ['/audit', 'Audit'],
] as const;

/** The frame of every page after login: vendor, who is logged in, navigation (a menu on narrow screens). */
export function Layout({ children }: { children: ComponentChildren }) {
  const { session, logout } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div class="shell">
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ▦
          </span>
          <span class="product">Portcullis</span>
          <span class="vendor" title="vendor">
            {session.vendor.name}
          </span>
        </div>
        <button type="button" class="menu-toggle secondary button-small" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="main-nav" class={menuOpen ? 'nav open' : 'nav'} aria-label="Main">
          {NAV.map(([href, name]) => {
            const current = path === href || path.startsWith(`${href}/`);
            return (
              <a key={href} href={href} class={current ? 'current' : undefined} aria-current={current ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                {name}
              </a>
            );
          })}
        </nav>
        <div class="who">
          <a class="email" href="/account/password" title="Change password">
            {session.user.email}
          </a>
          <span class="role">{session.user.role}</span>
          <button type="button" class="secondary button-small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main class="content">{children}</main>
    </div>
  );
}
