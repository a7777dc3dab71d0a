// Sign-in with a development token (paste `pnpm --silent run dev:token --user 1`): the
// token is kept for this tab and checked at once by asking the gateway who `me` is.
import { h } from '../dom.ts';
import { renderErrors } from '../errors.ts';
import { request } from '../graphql-client.ts';
import { Me } from '../operations.ts';
import { signIn, signOut } from '../session.ts';

export function signInView(onChange: () => void): HTMLElement {
  const input = h('textarea', { id: 'token', rows: '4', placeholder: 'eyJhbGciOi…', spellcheck: 'false' });
  const result = h('div', { class: 'sign-in-result' });
  const submit = async (event: Event) => {
    event.preventDefault();
    signIn(input.value.trim());
    const { data, errors } = await request(Me, {});
    if (!data?.me) {
      signOut();
      result.replaceChildren(renderErrors(errors) ?? h('p', {}, 'That token identifies nobody.'));
    } else result.replaceChildren(h('p', { class: 'signed-in' }, `Signed in as ${data.me.name}`));
    onChange();
  };
  return h(
    'section',
    { class: 'sign-in' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Development sign-in: paste a token from ', h('code', {}, 'pnpm --silent run dev:token --user 1'), '.'),
    h('form', { onsubmit: submit }, input, h('button', { id: 'sign-in', type: 'submit' }, 'Sign in')),
    result,
  );
}
