// The dashboard's only way to data: the public /api/v1, with the bearer token when the API asks
// for one (kept in sessionStorage: this tab only). A 401 opens the token dialog and retries.

const TOKEN_KEY = 'hopwatch.token';

/** An API error: the HTTP status and the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The stored token, or null. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Forgets the token (the next call that needs one asks again). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

let asking = null;
let cancelGuarded = false;

/** Shows the token dialog once, however many requests wait for it; resolves with the token typed. */
function askToken(message) {
  if (asking !== null) return asking;
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  error.hidden = message === null;
  error.textContent = message ?? '';
  input.value = '';
  asking = new Promise((resolve) => {
    const form = document.getElementById('token-form');
    const onSubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      form.removeEventListener('submit', onSubmit);
      dialog.close();
      asking = null;
      resolve(token);
    };
    form.addEventListener('submit', onSubmit);
    if (!cancelGuarded) {
      // Escape would leave every request waiting: the dialog stays until a token is given.
      dialog.addEventListener('cancel', (event) => event.preventDefault());
      cancelGuarded = true;
    }
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/** The query string of params, leaving out undefined, null and empty values. */
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/** GET api/v1/<path> and return the parsed body; 401 asks for the token and tries again (bounded). */
export async function api(path, params = {}) {
  const url = `api/v1/${path}${queryString(params)}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const token = storedToken();
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status === 401) {
      const hadToken = token !== null;
      forgetToken();
      const typed = await askToken(hadToken ? 'That token was not accepted.' : null);
      sessionStorage.setItem(TOKEN_KEY, typed);
      document.getElementById('logout').hidden = false;
      continue;
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const err = body && body.error ? body.error : { code: 'HTTP', message: `HTTP ${res.status}` };
      throw new ApiError(res.status, err.code, err.message);
    }
    return body;
  }
  throw new ApiError(401, 'UNAUTHORIZED', 'no valid token was given');
}

/** Encodes a route id for a path segment (ids hold "/"). */
export function seg(id) {
  return encodeURIComponent(id);
}
