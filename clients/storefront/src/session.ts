// Sign-in with a development token: the shopper pastes a JWT (in development, the output of
// `pnpm --silent run dev:token --user 1`); the storefront keeps it in sessionStorage (this
// tab only), sends it as a bearer token and checks it by asking for `me`. An UNAUTHENTICATED
// answer (expired or refused token) signs out.
import { setToken } from './graphql-client.ts';

const KEY = 'trellis.storefront.token';

export function restoreSession(): void {
  setToken(sessionStorage.getItem(KEY));
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  setToken(token);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  setToken(null);
}

export const signedIn = () => sessionStorage.getItem(KEY) !== null;
