/**
 * The attached page's login: user name and password, sent to the host's `POST /api/login`.
 * Says why a login failed (wrong credentials, or the host backing off after failed logins).
 */
import { useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import type { Session } from '../twin/session.ts';

/** Props of `LoginForm`. */
export interface LoginFormProps {
  session: Session;
  /** the page held a token the host refused */
  expired: boolean;
  /** offered when a login is optional (the open profile) */
  onCancel?: () => void;
}

/** The login form. */
export function LoginForm({ session, expired, onCancel }: LoginFormProps): React.JSX.Element {
  const { t } = useI18n();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: React.FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.login(user.trim(), password).then(
      (r) => {
        if (r.ok) return;
        setBusy(false);
        setPassword('');
        if (r.status === 401) setError(t.login.bad);
        else if (r.status === 429) setError(t.login.wait.replace('{s}', String(r.retryAfterS ?? '?')));
        else setError(`${t.login.failed}: ${r.message}`);
      },
      (err: unknown) => {
        setBusy(false);
        setError(`${t.login.failed}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  };
  return (
    <form className="login" data-testid="login" onSubmit={submit}>
      <h2>{t.login.title}</h2>
      <p className="muted">{t.login.intro}</p>
      {expired ? <p className="bad" data-testid="login-expired">{t.login.expired}</p> : null}
      <label>
        {t.login.user}
        <input name="user" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
      </label>
      <label>
        {t.login.password}
        <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error !== null ? <p className="bad" data-testid="login-error" role="alert">{error}</p> : null}
      <div className="row">
        <button type="submit" disabled={busy}>{busy ? t.login.busy : t.login.submit}</button>
        {onCancel !== undefined ? <button type="button" onClick={onCancel}>{t.login.cancel}</button> : null}
      </div>
    </form>
  );
}
