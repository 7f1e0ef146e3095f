// Herald's admin UI: starts the NHS.UK design system's components (progressive enhancement: every
// page works without it). A file of its own because the pages' CSP allows no inline script.
import { initAll } from './nhsuk.js';

document.body.classList.add('js-enabled');
if ('noModule' in HTMLScriptElement.prototype) document.body.classList.add('nhsuk-frontend-supported');
initAll();

// Security keys and passkeys (WebAuthn). A block marked data-webauthn="create" (add a key) or
// "get" (sign in with one) carries the options in data-options (JSON; binary fields base64url)
// and a form with hidden fields. It stays hidden unless this browser can use security keys; on
// submit the browser asks the authenticator, and the form posts its answer for the server to check.
const fromBase64url = (text) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const toBase64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function askAuthenticator(mode, options) {
  const challenge = fromBase64url(options.challenge);
  const keys = options.credentials.map((id) => ({ type: 'public-key', id: fromBase64url(id) }));
  if (mode === 'create') {
    const credential = await navigator.credentials.create({
      publicKey: {
        challenge,
        rp: options.rp,
        user: { id: fromBase64url(options.user.id), name: options.user.name, displayName: options.user.displayName },
        pubKeyCredParams: options.algorithms.map((alg) => ({ type: 'public-key', alg })),
        excludeCredentials: keys,
        authenticatorSelection: { userVerification: 'discouraged', residentKey: 'discouraged' },
        attestation: 'none',
        timeout: 120000,
      },
    });
    return {
      client_data_json: toBase64url(credential.response.clientDataJSON),
      attestation_object: toBase64url(credential.response.attestationObject),
    };
  }
  const credential = await navigator.credentials.get({
    publicKey: { challenge, rpId: options.rp.id, allowCredentials: keys, userVerification: 'discouraged', timeout: 120000 },
  });
  return {
    credential_id: toBase64url(credential.rawId),
    client_data_json: toBase64url(credential.response.clientDataJSON),
    authenticator_data: toBase64url(credential.response.authenticatorData),
    signature: toBase64url(credential.response.signature),
  };
}

if (window.PublicKeyCredential && window.isSecureContext) {
  for (const unsupported of document.querySelectorAll('[data-webauthn-unsupported]')) unsupported.hidden = true;
  for (const block of document.querySelectorAll('[data-webauthn]')) {
    block.hidden = false;
    const form = block.querySelector('form');
    const failed = block.querySelector('[data-webauthn-failed]');
    const options = JSON.parse(block.dataset.options);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      failed.hidden = true;
      try {
        const answer = await askAuthenticator(block.dataset.webauthn, options);
        answer.challenge = options.challenge;
        for (const [name, value] of Object.entries(answer)) form.elements[name].value = value;
        form.submit();
      } catch (error) {
        failed.hidden = false;
      }
    });
  }
}

// A job's page: its counts change as the worker sends the list's rows and receipts come in.
// Polls the page's progress endpoint (same origin, the session cookie) until every message has
// an outcome; without JavaScript, reloading the page shows the same figures.
for (const block of document.querySelectorAll('[data-job-progress]')) {
  const show = (id, text) => {
    const element = document.getElementById(id);
    if (element && element.textContent !== String(text)) element.textContent = String(text);
  };
  const poll = async () => {
    try {
      const response = await fetch(block.dataset.jobProgress, { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) return;
      const p = await response.json();
      const bar = document.getElementById('job-rows');
      bar.max = Math.max(p.rows, 1);
      bar.value = p.rows_done;
      show('job-rows-text', `${p.rows_done} of ${p.rows}`);
      show('job-status', p.status_label);
      show('job-sent', p.sent);
      show('job-sending', p.sending);
      show('job-delivered', p.delivered);
      show('job-failed', p.failed);
      if (p.status === 'finished' && p.sending === 0) return;
    } catch (error) {
      // A dropped connection: try again on the next tick.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 1000);
}
