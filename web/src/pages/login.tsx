import { useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { ErrorText, Notice } from '../components/feedback';
import { Field } from '../components/field';
import { takeFlash } from '../session';
import type { Session } from '../types';

export function LoginPage({ onLogin, bootError }: { onLogin(session: Session): void; bootError: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(bootError);
  const [busy, setBusy] = useState(false);
  const [message] = useState(takeFlash);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api<Session>('POST', '/api/v1/session', { email: email.trim(), password }, { expect401: true });
      onLogin(session);
    } catch (err) {
      setError(errorText(err));
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
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
