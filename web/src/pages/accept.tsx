import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, errorText } from '../api';
import { ErrorText, Loading } from '../components/feedback';
import { Field } from '../components/field';
import { day } from '../format';
import { setFlash } from '../session';
import type { InvitationInfo } from '../types';

/** The invitation's secret travels in the fragment (never sent to a server nor logged); read it once, then drop it from the address bar. */
function tokenFromFragment(): string {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  return params.get('token') ?? '';
}

export function AcceptPage() {
  const { route } = useLocation();
  const [token] = useState(tokenFromFragment);
  const [info, setInfo] = useState<InvitationInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (window.location.hash) history.replaceState(history.state, '', window.location.pathname);
    if (!token) {
      setLoadError('This link has no invitation in it. Open the link exactly as you received it.');
      return;
    }
    api<InvitationInfo>('GET', `/api/v1/invitations/${encodeURIComponent(token)}`, undefined, { expect401: true }).then(setInfo, (err: unknown) =>
      setLoadError(`This invitation cannot be used: ${errorText(err)}. Ask whoever invited you for a new one.`),
    );
  }, [token]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (password !== confirm) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/invitations/accept', { token, password }, { expect401: true });
      setFlash('Password set: log in with your email and new password.');
      route('/login');
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit}>
        <p class="product">Portcullis</p>
        <h1>Accept invitation</h1>
        {loadError && <ErrorText error={loadError} />}
        {!loadError && !info && <Loading />}
        {info && (
          <>
            <p>
              You are invited to <strong>{info.vendor.name}</strong> as <strong>{info.email}</strong>. Choose a password (at least 10 characters) before {day(info.expires_at)}.
            </p>
            <input type="email" name="email" autocomplete="username" value={info.email} readOnly hidden />
            <Field label="Password" control={(p) => <input {...p} type="password" autocomplete="new-password" required minLength={10} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />} />
            <Field label="Confirm" hint="the same password again" control={(p) => <input {...p} type="password" autocomplete="new-password" required value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />} />
            <ErrorText error={error} />
            <button type="submit" class="primary" disabled={busy}>
              Set password
            </button>
          </>
        )}
        <p class="muted">
          <a href="/login">Back to log in</a>
        </p>
      </form>
    </main>
  );
}
