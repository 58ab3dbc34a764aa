import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import { ErrorText, Notice } from '../components/feedback';
import { Field } from '../components/field';
import { takeFlash } from '../session';
import type { Session } from '../types';

/**
 * The vendor each address last logged in to on this browser, sent again with it: where an address has
 * accounts in several vendors, a login naming none is checked against each, and every one the password does
 * not open counts as a failed login (a guess at it), so naming the vendor keeps its owner clear of the throttle.
 */
const LAST_VENDORS = 'portcullis.last-vendors';

function lastVendors(): Record<string, string> {
  try {
    const kept: unknown = JSON.parse(localStorage.getItem(LAST_VENDORS) ?? '{}');
    return kept !== null && typeof kept === 'object' ? (kept as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function rememberVendor(email: string, vendor: string | undefined): void {
  const all = lastVendors();
  if (vendor === undefined) delete all[email];
  else all[email] = vendor;
  try {
    localStorage.setItem(LAST_VENDORS, JSON.stringify(all));
  } catch {
    // Storage off: every login names no vendor, as the first one did.
  }
}

export function LoginPage({ onLogin, bootError }: { onLogin(session: Session): void; bootError: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // Asked for only when the address and password open accounts in several vendors (the API's 409 on field vendor).
  const [vendor, setVendor] = useState<string | null>(null);
  const vendorInput = useRef<HTMLInputElement>(null);
  const askingVendor = vendor !== null;
  useEffect(() => {
    if (askingVendor) vendorInput.current?.focus();
  }, [askingVendor]);
  const [error, setError] = useState<string | null>(bootError);
  const [busy, setBusy] = useState(false);
  const [message] = useState(takeFlash);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const address = email.trim().toLowerCase();
    const typed = vendor?.trim() || undefined;
    const remembered = typed === undefined ? lastVendors()[address] : undefined;
    const attempt = (named: string | undefined) => api<Session>('POST', '/api/v1/session', { email: email.trim(), password, ...(named ? { vendor: named } : {}) }, { expect401: true });
    try {
      let session: Session;
      try {
        session = await attempt(typed ?? remembered);
      } catch (err) {
        // The remembered vendor may be gone, or this browser's other user of the address: once more, naming none.
        if (!(remembered !== undefined && err instanceof ApiError && err.status === 401)) throw err;
        rememberVendor(address, undefined);
        session = await attempt(undefined);
      }
      rememberVendor(address, session.vendor.name);
      onLogin(session);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.field === 'vendor') {
        setVendor((v) => v ?? '');
        setError('This e-mail address and password open accounts in several vendors: enter the vendor to log in to.');
      } else {
        setError(errorText(err));
      }
      setBusy(false);
    }
  };
  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit}>
        <p class="product">Portcullis</p>
        <h1>Log in</h1>
        {message && <Notice>{message}</Notice>}
        <Field label="Email" control={(p) => <input {...p} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />} />
        <Field label="Password" control={(p) => <input {...p} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />} />
        {askingVendor && (
          <Field
            label="Vendor"
            hint="The vendor's name, as in its dashboard."
            control={(p) => <input {...p} ref={vendorInput} type="text" autocomplete="organization" required value={vendor} onInput={(e) => setVendor(e.currentTarget.value)} />}
          />
        )}
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
