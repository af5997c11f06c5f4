/** Sign in with user name and password; errors in place; back to where the user was going afterwards. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn } from '../api/session-api';
import { Field, fieldError, FormError, SubmitButton } from '../components/form';
import { useSubmit } from '../components/use-submit';
import { isAppPath, navigate, type RouteProps } from '../router';
import { useSignedIn } from '../session';

export function SignInPage(props: RouteProps) {
  const signedIn = useSignedIn();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const userRef = useRef<HTMLInputElement>(null);
  const expired = props.query.get('expired') === '1';

  useEffect(() => {
    document.title = 'Sign in · scrapydd';
    userRef.current?.focus();
  }, []);

  const { busy, error, submit } = useSubmit(async () => {
    try {
      const session = await signIn(username.trim(), password);
      signedIn(session);
      const next = props.query.get('next') ?? '/ui';
      navigate(isAppPath(next.split('?')[0]!) && next.startsWith('/') && !next.startsWith('//') ? next : '/ui', { replace: true });
    } catch (err) {
      setPassword('');
      throw err; // shown by useSubmit
    }
  });

  return (
    <main class="sign-in" id="main">
      <form class="sign-in-card" onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <p class="brand brand-large">scrapydd</p>
        <h1 id="sign-in-title">Sign in</h1>
        {expired && !error && (
          <p class="notice notice-info" role="status">
            Your session has ended. Sign in again to continue.
          </p>
        )}
        <Field label="User name" error={fieldError(error, 'username')}>
          {(id, describedBy, invalid) => (
            <input
              ref={userRef}
              id={id}
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
              value={username}
              aria-invalid={invalid}
              aria-describedby={describedBy}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Password" error={fieldError(error, 'password')}>
          {(id, describedBy, invalid) => (
            <input
              id={id}
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              aria-invalid={invalid}
              aria-describedby={describedBy}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          )}
        </Field>
        <FormError error={error} fields={['username', 'password']} />
        <SubmitButton busy={busy} busyLabel="Signing in…">
          Sign in
        </SubmitButton>
      </form>
    </main>
  );
}
