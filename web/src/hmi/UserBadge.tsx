/** The header's account: who the page is signed in as, with Log out (or, anonymous under the open profile, Log in). */
import { useI18n } from '../i18n/index.ts';
import type { Who } from '../twin/session.ts';

/** Props of `UserBadge`. */
export interface UserBadgeProps {
  who: Who;
  /** the page holds a token (false: anonymous under the open profile) */
  signedIn: boolean;
  onLogout(): void;
  onLogin(): void;
}

/** The signed-in user and role. */
export function UserBadge({ who, signedIn, onLogout, onLogin }: UserBadgeProps): React.JSX.Element {
  const { t } = useI18n();
  return (
    <span className="who" data-testid="who" data-user={who.user} data-role={who.role} data-profile={who.profile}>
      <span title={who.profile === 'open' ? t.openProfile : undefined}>
        {signedIn ? who.user : t.anonymous} · <b>{t.roles[who.role]}</b>
      </span>
      {signedIn
        ? <button type="button" data-testid="logout" onClick={onLogout}>{t.logout}</button>
        : <button type="button" data-testid="login-open" onClick={onLogin}>{t.loginButton}</button>}
    </span>
  );
}
