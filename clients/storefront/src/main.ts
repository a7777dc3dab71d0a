// The storefront's shell: a hash router (#/, #/product/<id>, #/order/<id>, #/sign-in), the
// header with who is signed in, and the connection banner. Each navigation aborts the
// previous view's requests. When the gateway cannot be reached the banner says so and the
// view's request keeps retrying (graphql-client.ts); once it answers, the banner goes and
// the view renders — no reload needed.
import { h } from './dom.ts';
import { codeOf } from './errors.ts';
import { onConnectivity, request } from './graphql-client.ts';
import { Me } from './operations.ts';
import { restoreSession, signedIn, signOut } from './session.ts';
import { catalogueView } from './views/catalogue.ts';
import { orderView } from './views/order.ts';
import { productView } from './views/product.ts';
import { signInView } from './views/sign-in.ts';
import './style.css';

const main = document.querySelector('main')!;
const banner = document.querySelector<HTMLElement>('#connection')!;
const account = document.querySelector<HTMLElement>('#account')!;

onConnectivity((state) => {
  banner.hidden = state.online;
  banner.textContent = state.online
    ? ''
    : `Reconnecting to the shop (${state.reason}); next try in ${(state.retryInMs / 1000).toFixed(1)} s…`;
});

async function renderAccount(): Promise<void> {
  if (!signedIn()) {
    account.replaceChildren(h('a', { href: '#/sign-in', id: 'account-link' }, 'Sign in'));
    return;
  }
  const { data, errors } = await request(Me, {});
  if (!data?.me) {
    if (errors.some((e) => codeOf(e) === 'UNAUTHENTICATED')) signOut();
    return renderAccount();
  }
  const leave = () => {
    signOut();
    void renderAccount();
  };
  account.replaceChildren(
    h('span', { id: 'account-name' }, data.me.name),
    ' ',
    h('button', { type: 'button', onclick: leave }, 'Sign out'),
  );
}

let current: AbortController | null = null;

async function route(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const [path = '/', query = ''] = location.hash.replace(/^#/, '').split('?');
  const show = (view: HTMLElement) => {
    if (!controller.signal.aborted) main.replaceChildren(view);
  };
  main.setAttribute('aria-busy', 'true');
  try {
    const product = /^\/product\/(\w+)$/.exec(path);
    const order = /^\/order\/(\w+)$/.exec(path);
    if (product) show(await productView(product[1]!, controller.signal));
    else if (order) await orderView(order[1]!, controller.signal, show);
    else if (path === '/sign-in') show(signInView(() => void renderAccount()));
    else show(await catalogueView(new URLSearchParams(query), controller.signal));
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    if (!controller.signal.aborted) main.removeAttribute('aria-busy');
  }
}

restoreSession();
window.addEventListener('hashchange', () => void route());
void renderAccount();
void route();
