import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import { ErrorText, Notice } from '../components/feedback';
import { Field } from '../components/field';
import { takeFlash } from '../session';
import type { Session } from '../types';

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
    try {
      const body = { email: email.trim(), password, ...(vendor?.trim() ? { vendor: vendor.trim() } : {}) };
      const session = await api<Session>('POST', '/api/v1/session', body, { expect401: true });
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
