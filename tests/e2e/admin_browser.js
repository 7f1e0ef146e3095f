// The admin web UI in a real browser: Debian's Chromium driven by playwright-core. Enrols the
// user from the one-time link (TOTP computed here, as an authenticator app does), signs out,
// signs in again with the keyboard only, is refused a wrong code, adds a security key through
// Chromium's virtual authenticator and signs in with it, creates, edits and previews templates,
// creates an API key and sends with it through the official node client, and is refused a
// view-only service's API keys and another service's page.
// Every page is checked with axe-core (WCAG 2.2 A and AA rules) and must log no CSP violation;
// a screenshot of each is saved. Run by test_admin_browser.py, which starts Herald:
//   ADMIN_URL=https://localhost:PORT/ LINK=<enrolment token> OTHER_SERVICE=<id> ARTIFACTS=<dir> node admin_browser.js
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.env.ADMIN_URL;
const artifacts = process.env.ARTIFACTS;
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'a passphrase of several words';

function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offset));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const at = mac[19] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function nextStep() {
  const step = Math.floor(Date.now() / 30000);
  while (Math.floor(Date.now() / 30000) === step) await new Promise((r) => setTimeout(r, 200));
}

async function freshStep() {
  if ((Date.now() / 1000) % 30 > 25) await nextStep();
}

let current = null; // the page, for a screenshot of a failure
const violations = [];
let rulesPassed = 0; // proof that axe ran: the rules each page passed
const cspErrors = [];
const scriptErrors = []; // the design system's JavaScript must start cleanly

// axe-core evaluated through the DevTools protocol (not a script tag: the CSP allows none).
async function check(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }));
  rulesPassed += result.passes.length;
  for (const v of result.violations) {
    violations.push(`${name}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  // Herald's certificate is trusted by its key (not by ignoring errors: WebAuthn needs a page
  // without certificate errors).
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--ignore-certificate-errors-spki-list=' + process.env.CERT_SPKI],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    current = page;
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text());
      else if (m.type() === 'error' && !/status of 4[0-9][0-9]/.test(m.text())) scriptErrors.push(m.text());
    });
    page.on('pageerror', (e) => scriptErrors.push(String(e)));

    // Enrolment.
    await page.goto(base + 'enrol/' + process.env.LINK);
    expect((await page.title()).startsWith('Set up your account'), 'enrolment page: ' + (await page.title()));
    const stylesheet = await page.evaluate(() => getComputedStyle(document.querySelector('.nhsuk-header')).backgroundColor);
    await page.waitForFunction(() => document.body.classList.contains('nhsuk-frontend-supported'));
    expect(stylesheet === 'rgb(0, 94, 184)', 'the NHS.UK stylesheet is applied (NHS blue header): ' + stylesheet);
    await check(page, '01-enrol');
    const key = (await page.textContent('#totp-key')).trim();
    await page.fill('#password', PASSWORD);
    await page.fill('#password_again', PASSWORD);
    await freshStep();
    await page.fill('#code', totp(key));
    await page.click('button[type=submit]:has-text("Continue")');
    await page.waitForSelector('#recovery-codes');
    const codes = await page.$$eval('#recovery-codes code', (els) => els.map((e) => e.textContent));
    expect(codes.length === 10, 'ten recovery codes');
    await check(page, '02-recovery-codes');
    await page.click('text=Continue to your services');
    await page.waitForSelector('h1:has-text("Your services")');
    await check(page, '03-services');

    // Sign out, then sign in with the keyboard only.
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('h1:has-text("Sign in")');
    await check(page, '04-sign-in');
    await page.keyboard.press('Tab'); // the skip link
    await page.keyboard.press('Tab'); // the header's home link
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement.id) === 'email', 'Tab reaches the email field');
    await page.keyboard.type('ada@example.org');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:has-text("Enter your security code")');
    await check(page, '05-two-factor');

    // A wrong code: the error summary, focused content and an accessible error page.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement.id) === 'code', 'Tab reaches the code field');
    await nextStep(); // the enrolment's code was the last step's
    const right = totp(key);
    await page.keyboard.type(right === '000000' ? '111111' : '000000');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.nhsuk-error-summary');
    await check(page, '06-wrong-code');
    await page.fill('#code', totp(key));
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:has-text("Your services")');
    expect((await page.textContent('main')).includes('Clinic A'), 'the member service is listed');

    // A security key: added through Chromium's virtual authenticator (the second factor was
    // just given, so no re-authentication is asked), then used to sign in instead of a code.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false,
        automaticPresenceSimulation: true },
    });
    await page.click('a:has-text("Ada Lovelace")');
    await page.waitForSelector('h1:has-text("Your account")');
    expect((await page.textContent('main')).includes('You have no security keys'), 'no keys yet');
    await page.click('text=Add a security key');
    await page.waitForSelector('h1:has-text("Add a security key")');
    await page.waitForSelector('#security-key', { state: 'visible' });
    await check(page, '08-add-security-key');
    await page.fill('#name', 'Blue key');
    await page.click('button:has-text("Add security key")');
    await page.waitForSelector('h1:has-text("Your account")');
    expect((await page.textContent('main')).includes('Blue key'), 'the key is listed: ' + (await page.textContent('main')));
    await check(page, '09-account');
    const before = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    expect(before.length === 1, 'the authenticator holds one key');

    await page.click('button:has-text("Sign out")');
    await page.fill('#email', 'ada@example.org');
    await page.fill('#password', PASSWORD);
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('#security-key', { state: 'visible' });
    await check(page, '10-two-factor-with-key');
    await page.click('button:has-text("Use your security key")');
    await page.waitForSelector('h1:has-text("Your services")');
    const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    expect(after[0].signCount > before[0].signCount, 'the key signed: ' + after[0].signCount);
    // Before a sensitive action, the key confirms it is her again (instead of a code).
    await page.goto(base + 're-authenticate?next=/account');
    await page.waitForSelector('#security-key', { state: 'visible' });
    await check(page, '10b-re-authenticate-with-key');
    await page.click('button:has-text("Use your security key")');
    await page.waitForSelector('h1:has-text("Your account")');
    const again = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    expect(again[0].signCount > after[0].signCount, 'the key signed again: ' + again[0].signCount);
    await page.goto(base);
    await page.waitForSelector('h1:has-text("Your services")');

    // A service's pages: an email template created, previewed, edited (two versions).
    const service = base + 'services/' + process.env.MY_SERVICE;
    await page.click('a:has-text("Clinic A")');
    await page.waitForSelector('h1:has-text("Overview")');
    await check(page, '11-service');
    await page.click('.nhsuk-header__navigation a:has-text("Templates")');
    await page.waitForSelector('h1:has-text("Templates")');
    await page.click('text=Create a template');
    await page.check('#type'); // email, the first choice
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('h1:has-text("New email template")');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.nhsuk-error-summary');
    await check(page, '12-template-errors');
    await page.fill('#name', 'Appointment reminder');
    await page.fill('#subject', 'Your appointment on ((date))');
    await page.fill('#body', 'Dear ((name)),\n\nYour appointment is on ((date)).\n\n* Bring your letter\n* Arrive early');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('h1:has-text("Appointment reminder")');
    const frame = page.frameLocator('iframe[title="Preview of the email"]');
    const previewText = await frame.locator('body').textContent();
    expect(previewText.includes('Dear ((name))') && previewText.includes('Bring your letter'), 'email preview: ' + previewText);
    expect((await frame.locator('li').count()) === 2, 'markdown rendered in the preview: a list of two');
    await check(page, '13-email-template');
    const templateId = page.url().split('/templates/')[1];
    await page.click('text=Edit this template');
    await page.fill('#body', 'Dear ((name)),\n\nYour appointment is on ((date)). Bring your letter.');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('h1:has-text("Appointment reminder")');
    expect((await page.textContent('main')).includes('Version 1'), 'the first version is listed');

    // Sending it to one person from here.
    await page.click('text=Send this message');
    await page.fill('#to', 'patient@example.org');
    await page.fill('#placeholder-0', 'Pat');
    await page.fill('#placeholder-1', '5 December');
    await check(page, '13-send');
    await page.click('button:has-text("Send")');
    await page.waitForSelector('h2:has-text("History")');
    expect((await page.textContent('main')).includes('patient@example.org'), 'the message page');

    // Sending it to a list: a CSV file with one bad row. The check shows that row's error before
    // anything is sent; then the other rows go, and the job page's counts move without a reload
    // (ui/init.js polls the job's progress).
    await page.goto(service + '/templates/' + templateId);
    await page.click('text=Send to a list');
    await page.waitForSelector('h1:has-text("to a list")');
    await check(page, '13-upload-list');
    const list = 'email address,name,date\r\nann@example.org,Ann,1 May\r\nnot-an-address,Bob,2 May\r\n' +
      'cat@example.org,Cat,3 May\r\n';
    await page.setInputFiles('#file', { name: 'clinic-list.csv', mimeType: 'text/csv', buffer: Buffer.from(list) });
    await page.click('button:has-text("Upload and check")');
    await page.waitForSelector('h1:has-text("Check clinic-list.csv")');
    const checked = await page.textContent('main');
    expect(checked.includes('Not a valid email address'), 'the bad row and its error: ' + checked);
    await check(page, '13-check-list');
    const polled = page.waitForResponse((r) => r.url().endsWith('/progress') && r.status() === 200);
    await page.click('button:has-text("Send 2 messages")');
    await page.waitForSelector('#job-rows');
    await polled;
    await page.waitForFunction(() => document.getElementById('job-delivered').textContent === '2', null, {
      timeout: 30000,
    });
    expect(await page.$eval('#job-rows', (bar) => bar.value === bar.max), 'the progress bar is full');
    expect((await page.textContent('#job-status')) === 'Sent', await page.textContent('#job-status'));
    await check(page, '13-list-sent');

    // The dashboard (the service's overview): the week's emails drawn and in a table.
    await page.click('.nhsuk-header__navigation a:has-text("Overview")');
    await page.waitForSelector('svg.herald-chart');
    const chart = await page.textContent('#chart-email-title');
    expect(/^Emails per day: \d+ delivered/.test(chart), 'the chart says what it shows: ' + chart);
    await page.click('summary:has-text("Emails per day as a table")');
    await check(page, '13-dashboard');

    // A text message template shows its length in messages.
    await page.goto(service + '/templates/new?type=sms');
    await page.fill('#name', 'Reminder text');
    await page.fill('#body', 'Your appointment is on ((date)). Reply STOP to stop these messages.');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('#sms-length');
    expect((await page.textContent('#sms-length')).includes('1 text message'), await page.textContent('#sms-length'));
    await check(page, '14-sms-template');

    // An API key (shown once), used by GOV.UK Notify's own node client.
    await page.click('.nhsuk-header__navigation a:has-text("API keys")');
    await page.waitForSelector('h1:has-text("API keys")');
    await page.click('text=Create an API key');
    await page.fill('#name', 'Browser test');
    await page.check('#type-test');
    await check(page, '15-new-api-key');
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('#api-key');
    const apiKey = (await page.textContent('#api-key')).trim();
    await check(page, '16-api-key-shown');
    const { NotifyClient } = require('notifications-node-client');
    const client = new NotifyClient(process.env.HERALD_URL, apiKey);
    const sent = await client.sendEmail(templateId, 'someone@example.org', {
      personalisation: { name: 'Ada', date: '4 December' },
    });
    expect(sent.data.template.version === 2, 'the latest version is sent: ' + JSON.stringify(sent.data));
    expect(sent.data.content.body.includes('Dear Ada'), JSON.stringify(sent.data.content));
    await page.goto(service + '/api-keys');
    expect((await page.textContent('main')).includes('Browser test'), 'the key is listed');

    // The message just sent, found by its recipient, and its history.
    await page.click('.nhsuk-header__navigation a:has-text("Messages")');
    await page.fill('#to', 'someone@example.org');
    await page.click('button:has-text("Search")');
    await page.waitForSelector('h2:has-text("1 messages")');
    await check(page, '16-find-messages');
    await page.click('main a:has-text("someone@example.org")');
    await page.waitForSelector('h2:has-text("History")');
    await check(page, '16-message');

    // The team page, and inviting someone with a role.
    await page.click('.nhsuk-header__navigation a:has-text("Team")');
    await page.waitForSelector('h1:has-text("Team members")');
    await check(page, '17-team');
    await page.click('text=Invite a team member');
    await page.fill('#email', 'grace@example.org');
    await page.fill('#name', 'Grace Hopper');
    await page.check('#permissions-send');
    await check(page, '17-team-invite');
    await page.click('button:has-text("Send invitation")');
    await page.waitForSelector('#enrolment-link');
    expect((await page.textContent('#enrolment-link')).includes('/enrol/'), 'a link for Grace');

    // Settings: how long personal data is kept.
    await page.click('.nhsuk-header__navigation a:has-text("Settings")');
    await page.waitForSelector('h1:has-text("Settings")');
    await page.fill('#retention_days', '30');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('h1:has-text("Settings")');
    expect((await page.inputValue('#retention_days')) === '30', 'retention saved');
    await check(page, '17-settings');
    await page.click('text=See the audit log');
    await page.waitForSelector('#audit-count');
    expect((await page.textContent('main')).includes('service.retention_changed'), 'the change is in the log');
    await check(page, '17-audit');

    // A data-subject request: what the service holds about a person, found by their address.
    await page.goto(service + '/settings');
    await page.click('text=Make a data request');
    await page.waitForSelector('h1:has-text("Data requests")');
    await check(page, '17-data-request');
    await page.fill('#who', 'someone@example.org');
    await page.click('button:has-text("Find")');
    await page.waitForSelector('h1:has-text("Data held about")');
    expect((await page.textContent('main')).includes('Download (JSON)'), 'the message sent to them is held');
    await check(page, '17-data-found');

    // Email unsubscribe requests (none yet).
    await page.goto(service + '/unsubscribe-requests');
    await page.waitForSelector('h1:has-text("Email unsubscribe requests")');
    await check(page, '17-unsubscribe-requests');

    // Senders, the guest list and callbacks.
    await page.goto(service + '/settings');
    await page.click('text=Reply-to email addresses');
    await page.waitForSelector('h1:has-text("Reply-to email addresses")');
    await page.fill('#value', 'help@example.org');
    await page.click('button:has-text("Add")');
    await page.waitForSelector('td:has-text("help@example.org")');
    await check(page, '19-reply-to');
    await page.goto(service + '/contacts/letter-contacts');
    await check(page, '19-letter-contacts');
    await page.goto(service + '/api-keys');
    await page.click('text=Guest list');
    await page.waitForSelector('h1:has-text("Guest list")');
    await page.fill('#recipient', 'guest@example.org');
    await page.click('button:has-text("Add")');
    await page.waitForSelector('td:has-text("guest@example.org")');
    await check(page, '19-guest-list');
    await page.goto(service + '/callbacks');
    await page.waitForSelector('h2:has-text("Delivery receipts")');
    await check(page, '19-callbacks');
    await page.goto(service + '/nhs-callbacks');
    await page.waitForSelector('h2:has-text("Add a receiver")');
    await check(page, '19-nhs-callbacks');

    // An NHS Notify routing plan built from the templates above: NHS App first, then email,
    // the text message alongside; a mistake first (no time limit), shown at its field.
    await page.goto(service + '/routing-plans');
    await page.waitForSelector('h1:has-text("Routing plans")');
    await check(page, '19-routing-plans');
    await page.click('text=Create a routing plan');
    await page.waitForSelector('h1:has-text("New routing plan")');
    await page.fill('#name', 'Appointments');
    await page.check('#nhsapp_use-primary');
    await page.fill('#nhsapp_message', 'You have an appointment, ((firstName)).');
    await page.check('#email_use-primary');
    await page.selectOption('#email_template', { label: 'Appointment reminder' });
    await page.fill('#email_hours', '');
    await page.check('#sms_use-secondary');
    await page.selectOption('#sms_template', { label: 'Reminder text' });
    await page.click('button:has-text("Save the routing plan")');
    await page.waitForSelector('.nhsuk-error-summary');
    await check(page, '19-routing-plan-errors');
    await page.fill('#email_hours', '48');
    await page.click('button:has-text("Save the routing plan")');
    await page.waitForSelector('h2:has-text("Primary cascade")');
    expect((await page.textContent('main')).includes('Appointment reminder (version'), 'the email template, pinned');
    await check(page, '19-routing-plan');

    // A view-only member sees templates but not the pages that change things.
    const viewed = base + 'services/' + process.env.VIEWED_SERVICE;
    expect((await page.goto(viewed + '/templates')).status() === 200, 'view: the template list');
    expect((await page.textContent('main')).includes('Create a template') === false, 'no create button for a viewer');
    expect((await page.goto(viewed + '/api-keys')).status() === 403, 'view-only: no API keys page');
    await check(page, '18-not-permitted');
    expect((await page.goto(viewed + '/templates/new?type=email')).status() === 403, 'view-only: no new template');

    // Another service's page is not found.
    const response = await page.goto(base + 'services/' + process.env.OTHER_SERVICE);
    expect(response.status() === 404, 'another service: ' + response.status());
    await check(page, '07-not-found');

    expect(violations.length === 0, 'axe-core violations:\n' + violations.join('\n'));
    expect(cspErrors.length === 0, 'CSP violations:\n' + cspErrors.join('\n'));
    expect(scriptErrors.length === 0, 'script errors:\n' + scriptErrors.join('\n'));
    expect(rulesPassed > 35 * 10, 'axe-core ran: ' + rulesPassed + ' rules passed');
    console.log(`ok: 35 pages, ${rulesPassed} axe-core rule checks passed, no violations, no CSP violations`);
  } catch (e) {
    if (current) {
      await current.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
      e.message += '\nat ' + current.url() + ':\n' + (await current.textContent('main').catch(() => ''));
    }
    throw e;
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
