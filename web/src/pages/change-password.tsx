import { useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { ErrorText, Notice } from '../components/feedback';
import { Field } from '../components/field';
import { useSession } from '../session';

/**
 * Change one's own password. `forced`: right after logging in with a temporary
 * password, before anything else is shown.
 */
export function ChangePasswordPage({ forced, onChanged }: { forced?: boolean; onChanged?: () => void }) {
  const { session, logout } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (next !== confirm) {
      setError('The two new passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/session/password', { current_password: current, new_password: next });
      setDone(true);
      setCurrent('');
      setNext('');
      setConfirm('');
      onChanged?.();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const form = (
    <form class={forced ? 'auth-card' : 'form-card'} onSubmit={submit}>
      {forced && <p class="product">Portcullis</p>}
      <h1>Change password</h1>
      {forced && <p>You logged in as {session.user.email} with a temporary password. Choose your own password to go on.</p>}
      {/* For password managers: the account whose password this is. */}
      <input type="email" name="email" autocomplete="username" value={session.user.email} readOnly hidden />
      {done && <Notice>Password changed. Other sessions of this account were logged out.</Notice>}
      <Field label="Current password" control={(p) => <input {...p} type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />} />
      <Field label="New password" hint="at least 10 characters, not your email" control={(p) => <input {...p} type="password" autocomplete="new-password" required minLength={10} value={next} onInput={(e) => setNext(e.currentTarget.value)} />} />
      <Field label="Confirm" hint="the new password again" control={(p) => <input {...p} type="password" autocomplete="new-password" required value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />} />
      <ErrorText error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Set password
        </button>
        {forced && (
          <button type="button" class="secondary" onClick={() => void logout()}>
            Log out
          </button>
        )}
      </div>
    </form>
  );
  return forced ? <main class="auth-page">{form}</main> : <section>{form}</section>;
}
