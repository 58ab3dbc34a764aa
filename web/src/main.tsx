import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { api, ApiError, errorText, onSessionLost, setCsrfToken } from './api';
import { Layout } from './components/layout';
import { Loading } from './components/feedback';
import { AcceptPage } from './pages/accept';
import { AuditPage } from './pages/audit';
import { ChangePasswordPage } from './pages/change-password';
import { CustomerDetailPage } from './pages/customer-detail';
import { CustomersPage } from './pages/customers';
import { LicenseDetailPage } from './pages/license-detail';
import { LicensesPage } from './pages/licenses';
import { LoginPage } from './pages/login';
import { NotFoundPage } from './pages/not-found';
import { TokenDetailPage } from './pages/token-detail';
import { TokensPage } from './pages/tokens';
import { UsagePage } from './pages/usage';
import { UsersPage } from './pages/users';
import { SessionContext, type SessionState } from './session';
import type { Session } from './types';

const HOME = '/tokens';

function App() {
  // undefined: still asking the server who is logged in; null: nobody.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [probeError, setProbeError] = useState<string | null>(null);
  const { path, url, route } = useLocation();
  // Where a logged-out visitor wanted to go, to land there after logging in.
  const [wanted, setWanted] = useState<string | null>(null);

  const signIn = useCallback((s: Session) => {
    setCsrfToken(s.csrf_token);
    setSession(s);
  }, []);

  useEffect(() => {
    onSessionLost(() => setSession(null));
    api<Session>('GET', '/api/v1/session', undefined, { expect401: true }).then(signIn, (err: unknown) => {
      if (!(err instanceof ApiError && err.status === 401)) setProbeError(errorText(err));
      setSession(null);
    });
  }, [signIn]);

  const logout = useCallback(async () => {
    try {
      await api('DELETE', '/api/v1/session', undefined, { expect401: true });
    } finally {
      setCsrfToken(null);
      setSession(null);
    }
  }, []);

  const state = useMemo<SessionState | null>(() => (session ? { session, canWrite: session.user.role !== 'viewer', logout } : null), [session, logout]);

  const publicPage = path === '/login' || path === '/accept';
  useEffect(() => {
    if (session === null && !publicPage) {
      if (path !== '/') setWanted(url);
      route('/login', true);
    } else if (session && (path === '/login' || path === '/')) {
      route(wanted ?? HOME, true);
      setWanted(null);
    }
  }, [session, path, url, publicPage, route, wanted]);

  if (path === '/accept') return <AcceptPage />;
  if (session === undefined) return <Loading />;
  if (session === null) return path === '/login' ? <LoginPage onLogin={signIn} bootError={probeError} /> : <Loading />;
  if (session.user.must_change_password) {
    return (
      <SessionContext.Provider value={state}>
        <ChangePasswordPage forced onChanged={() => setSession({ ...session, user: { ...session.user, must_change_password: false } })} />
      </SessionContext.Provider>
    );
  }
  if (path === '/login' || path === '/') return <Loading />;
  return (
    <SessionContext.Provider value={state}>
      <Layout>
        <Router>
          <Route path="/tokens" component={TokensPage} />
          <Route path="/tokens/:username" component={TokenDetailPage} />
          <Route path="/customers" component={CustomersPage} />
          <Route path="/customers/:id" component={CustomerDetailPage} />
          <Route path="/licenses" component={LicensesPage} />
          <Route path="/licenses/:id" component={LicenseDetailPage} />
          <Route path="/usage" component={UsagePage} />
          <Route path="/users" component={UsersPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/account/password" component={ChangePasswordPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </Layout>
    </SessionContext.Provider>
  );
}

render(
  <LocationProvider>
    <App />
  </LocationProvider>,
  document.getElementById('app')!,
);
