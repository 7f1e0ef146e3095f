// Herald's admin UI: starts the NHS.UK design system's components (progressive enhancement: every
// page works without it). A file of its own because the pages' CSP allows no inline script.
import { initAll } from './nhsuk.js';

document.body.classList.add('js-enabled');
if ('noModule' in HTMLScriptElement.prototype) document.body.classList.add('nhsuk-frontend-supported');
initAll();
