// Drives herald serve with the official GOV.UK Notify Node client, unchanged, and compares
// responses field for field with GOV.UK Notify's v2 API. Started by test_node_client.py, which
// sets NODE_EXTRA_CA_CERTS to the server's self-signed certificate.
'use strict';
const assert = require('node:assert/strict');
const https = require('node:https');
const crypto = require('node:crypto');
const { NotifyClient } = require('notifications-node-client');

const base = process.env.HERALD_URL;
const apiKey = process.env.HERALD_API_KEY;
const serviceId = process.env.HERALD_SERVICE_ID;
const templateId = process.env.HERALD_TEMPLATE_ID;
const client = new NotifyClient(base, apiKey);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const timestampPattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function v2Error(status, error, message) {
  return { status_code: status, errors: [{ error, message }] };
}

async function expectError(promise, status, error, message) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e.response, `expected an HTTP error, got ${e}`);
    assert.equal(e.response.status, status);
    assert.deepEqual(e.response.data, v2Error(status, error, message));
    return;
  }
  assert.fail(`expected ${status} ${error}`);
}

// A raw HTTPS request, for cases the client cannot produce.
function raw(method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(base + path, { method, headers }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function token(secret, iat, iss = serviceId) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = enc({ typ: 'JWT', alg: 'HS256' }) + '.' + enc({ iss, iat });
  return input + '.' + crypto.createHmac('sha256', secret).update(input).digest('base64url');
}
const secret = apiKey.slice(-36);
const bearer = (iat = Math.round(Date.now() / 1000)) => ({ Authorization: 'Bearer ' + token(secret, iat) });

// Delivery runs beside the API, so a notification's status moves while a test reads it; poll
// until it settles before comparing whole objects.
async function untilDelivered(id) {
  let got;
  for (let i = 0; i < 300; i++) {
    got = (await client.getNotificationById(id)).data;
    if (got.status === 'delivered') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got.status, 'delivered');
  return got;
}

async function sendAndGet() {
  const response = await client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { name: 'Foo' }, reference: 'e2e-ref-1' });
  assert.equal(response.status, 201);
  const sent = response.data;
  assert.deepEqual(Object.keys(sent).sort(),
    ['content', 'id', 'reference', 'sanitised_content', 'scheduled_for', 'template', 'uri']);
  assert.match(sent.id, uuidPattern);
  assert.deepEqual(sent, {
    id: sent.id,
    reference: 'e2e-ref-1',
    content: {
      from_email: 'node.client.service@notifications.herald.localhost',
      body: 'Hello Foo\r\n\r\nFunctional test help make our world a better place',
      subject: 'Test Foo',
      one_click_unsubscribe_url: null,
    },
    uri: `${base}/v2/notifications/${sent.id}`,
    template: { id: templateId, version: 1, uri: `${base}/services/${serviceId}/templates/${templateId}` },
    scheduled_for: null,
    sanitised_content: {},
  });

  const got = await untilDelivered(sent.id);
  assert.match(got.created_at, timestampPattern);
  assert.match(got.sent_at, timestampPattern);
  assert.match(got.completed_at, timestampPattern);
  assert.deepEqual(got, {
    id: sent.id, reference: 'e2e-ref-1', email_address: 'someone@example.com', phone_number: null,
    line_1: null, line_2: null, line_3: null, line_4: null, line_5: null, line_6: null, postcode: null,
    type: 'email', status: 'delivered',
    template: { id: templateId, version: 1, uri: `${base}/v2/template/${templateId}/version/1` },
    body: 'Hello Foo\r\n\r\nFunctional test help make our world a better place', subject: 'Test Foo',
    created_at: got.created_at, created_by_name: null, sent_at: got.sent_at, completed_at: got.completed_at,
    scheduled_for: null, postage: null, one_click_unsubscribe_url: null,
    cost_in_pounds: 0.0, is_cost_data_ready: true, cost_details: {},
  });
}

async function clientErrors() {
  await expectError(client.sendEmail(templateId, 'someone@example.com', { personalisation: {} }),
    400, 'BadRequestError', 'Missing personalisation: name');
  await expectError(client.sendEmail(templateId, 'someone@example.com', { personalisation: { name: null } }),
    400, 'BadRequestError', 'Missing personalisation: name');
  await expectError(client.sendEmail(crypto.randomUUID(), 'someone@example.com', { personalisation: { name: 'x' } }),
    400, 'BadRequestError', 'Template not found');
  await expectError(client.sendEmail(templateId, 'not-an-email', { personalisation: { name: 'x' } }),
    400, 'ValidationError', 'email_address Not a valid email address');
  await expectError(client.sendEmail('abc', 'someone@example.com'),
    400, 'ValidationError', 'template_id is not a valid UUID');
  await expectError(client.getNotificationById(crypto.randomUUID()), 404, 'NoResultFound', 'No result found');
  await expectError(client.getNotificationById('not-a-uuid'), 400, 'ValidationError', 'notification_id is not a valid UUID');
  const wrongSecret = new NotifyClient(base, `bad-${serviceId}-${crypto.randomUUID()}`);
  await expectError(wrongSecret.getNotificationById(crypto.randomUUID()), 403, 'AuthError', 'Invalid token: API key not found');
  const unknownService = new NotifyClient(base, `bad-${crypto.randomUUID()}-${crypto.randomUUID()}`);
  await expectError(unknownService.sendEmail(templateId, 'someone@example.com'), 403, 'AuthError', 'Invalid token: service not found');
  const replyTo = crypto.randomUUID();
  await expectError(client.sendEmail(templateId, 'someone@example.com', { personalisation: { name: 'x' }, emailReplyToId: replyTo }),
    400, 'BadRequestError', `email_reply_to_id ${replyTo} does not exist in database for service id ${serviceId}`);
  // Tenant isolation: another service's key sees neither the template nor the notification.
  const other = new NotifyClient(base, process.env.HERALD_OTHER_API_KEY);
  await expectError(other.sendEmail(templateId, 'someone@example.com', { personalisation: { name: 'x' } }),
    400, 'BadRequestError', 'Template not found');
}

async function rawErrors() {
  const json = { 'Content-Type': 'application/json' };
  let r = await raw('POST', '/v2/notifications/email', { body: '{"email_address": ', headers: { ...json, ...bearer() } });
  assert.deepEqual(r, { status: 400, body: v2Error(400, 'BadRequestError', 'Invalid JSON supplied in POST data') });
  r = await raw('POST', '/v2/notifications/email', { body: '{}', headers: json });
  assert.deepEqual(r, { status: 401, body: v2Error(401, 'AuthError', 'Unauthorized: authentication token must be provided') });
  r = await raw('GET', `/v2/notifications/${crypto.randomUUID()}`, { headers: { Authorization: 'Basic abc' } });
  assert.deepEqual(r, { status: 401, body: v2Error(401, 'AuthError', 'Unauthorized: authentication bearer scheme must be used') });
  r = await raw('GET', `/v2/notifications/${crypto.randomUUID()}`, { headers: { Authorization: 'Bearer not.a.jwt' } });
  assert.equal(r.status, 403);
  assert.match(r.body.errors[0].message, /^Invalid token: make sure your API token matches the example/);
  r = await raw('GET', `/v2/notifications/${crypto.randomUUID()}`, { headers: bearer(Math.round(Date.now() / 1000) - 120) });
  assert.deepEqual(r, { status: 403, body: v2Error(403, 'AuthError', 'Error: Your system clock must be accurate to within 30 seconds') });
  r = await raw('POST', '/v2/notifications/email', {
    body: JSON.stringify({ template_id: templateId, foo: 1, bar: 2 }), headers: { ...json, ...bearer() } });
  assert.deepEqual(r, { status: 400, body: { status_code: 400, errors: [
    { error: 'ValidationError', message: 'email_address is a required property' },
    { error: 'ValidationError', message: 'Additional properties are not allowed (foo, bar were unexpected)' }] } });
  r = await raw('POST', '/v2/notifications/email', {
    body: JSON.stringify({ email_address: 'a@example.com', template_id: templateId, personalisation: { name: 'x'.repeat(11 * 1024 * 1024) } }),
    headers: { ...json, ...bearer() } });
  assert.equal(r.status, 413);
  assert.equal(r.body.status_code, 413);
  // GOV.UK parses the body whatever the Content-Type says.
  r = await raw('POST', '/v2/notifications/email', {
    body: JSON.stringify({ email_address: 'plain@example.com', template_id: templateId, personalisation: { name: 'x' } }),
    headers: { 'Content-Type': 'text/plain', ...bearer() } });
  assert.equal(r.status, 201);
}

const apptId = process.env.HERALD_APPT_TEMPLATE_ID;
const smsId = process.env.HERALD_SMS_TEMPLATE_ID;

async function templates() {
  let t = (await client.getTemplateById(apptId)).data;
  assert.match(t.created_at, timestampPattern);
  assert.match(t.updated_at, timestampPattern);
  assert.ok(t.updated_at > t.created_at, 'updated_at is the second version\'s time');
  assert.deepEqual(t, {
    id: apptId, type: 'email', created_at: t.created_at, updated_at: t.updated_at, created_by: 'two@example.com',
    version: 2, body: 'On ((date)) ((bring id??Bring your ID.)) ((Date))', subject: 'Your ((thing))',
    name: 'Appointment v2',
    personalisation: { thing: { required: true }, date: { required: true }, 'bring id': { required: true } },
    postage: null, letter_contact_block: null,
  });
  const v1 = (await client.getTemplateByIdAndVersion(apptId, 1)).data;
  assert.deepEqual(v1, {
    id: apptId, type: 'email', created_at: t.created_at, updated_at: null, created_by: 'one@example.com',
    version: 1, body: 'On ((date))', subject: 'Your ((thing))', name: 'Appointment',
    personalisation: { thing: { required: true }, date: { required: true } }, postage: null, letter_contact_block: null,
  });
  assert.equal((await client.getTemplateByIdAndVersion(apptId, 0)).data.version, 2, 'version 0 is the latest');
  await expectError(client.getTemplateByIdAndVersion(apptId, 3), 404, 'NoResultFound', 'No result found');
  await expectError(client.getTemplateById(crypto.randomUUID()), 404, 'NoResultFound', 'No result found');
  await expectError(client.getTemplateById('abc'), 400, 'ValidationError', 'id is not a valid UUID');
  const other = new NotifyClient(base, process.env.HERALD_OTHER_API_KEY);
  await expectError(other.getTemplateById(apptId), 404, 'NoResultFound', 'No result found');

  const sms = (await client.getTemplateById(smsId)).data;
  assert.equal(sms.type, 'sms');
  assert.equal(sms.subject, null);
  assert.deepEqual(sms.personalisation, { name: { required: true } });

  const all = (await client.getAllTemplates()).data;
  assert.deepEqual(Object.keys(all), ['templates']);
  assert.deepEqual(all.templates.map((x) => x.name), ['Appointment v2', 'Letter', 'Reminder text', 'Template']);
  assert.deepEqual(all.templates[0], t);
  assert.deepEqual((await client.getAllTemplates('sms')).data.templates.map((x) => x.id), [smsId]);
  const letterTemplates = (await client.getAllTemplates('letter')).data.templates;
  assert.deepEqual(letterTemplates.map((x) => [x.id, x.type, x.postage, x.letter_contact_block]),
    [[process.env.HERALD_LETTER_TEMPLATE_ID, 'letter', 'second', null]]);
  await expectError(client.getAllTemplates('fax'), 400, 'ValidationError', 'type fax is not one of [sms, email, letter]');
  assert.deepEqual((await other.getAllTemplates()).data, { templates: [] });

  const preview = (await client.previewTemplateById(templateId, { name: 'Foo <b>' })).data;
  assert.deepEqual(Object.keys(preview).sort(), ['body', 'html', 'id', 'postage', 'subject', 'type', 'version']);
  assert.equal(preview.body, 'Hello Foo <b>\r\n\r\nFunctional test help make our world a better place');
  assert.equal(preview.subject, 'Test Foo <b>');
  assert.match(preview.html, /Hello Foo &lt;b&gt;/);
  assert.deepEqual([preview.id, preview.type, preview.version, preview.postage], [templateId, 'email', 1, null]);
  await expectError(client.previewTemplateById(templateId), 400, 'BadRequestError', 'Missing personalisation: name');
  await expectError(client.previewTemplateById(apptId, { thing: 'x', date: 'y' }), 400, 'BadRequestError',
    'Missing personalisation: bring id');
  await expectError(client.previewTemplateById(crypto.randomUUID(), {}), 404, 'NoResultFound', 'No result found');
}

async function sanitised() {
  // GOV.UK's own example (its Node integration test): the link is removed, markdown escaped.
  const response = await client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { Name: 'User, [click here](https://evil.link)' }, sanitiseContentFor: ['name'] });
  assert.equal(response.status, 201);
  assert.deepEqual(response.data.sanitised_content, {
    Name: { unsanitised: 'User, [click here](https://evil.link)', sanitised: 'User, \\[click here\\]\\(\\)' } });
  assert.equal(response.data.content.body,
    'Hello User, \\[click here\\]\\(\\)\r\n\r\nFunctional test help make our world a better place');
  const plain = await client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { name: 'Ada' }, sanitiseContentFor: ['name'] });
  // Always present (GOV.UK's post_notifications.py): empty when nothing was changed.
  assert.deepEqual(plain.data.sanitised_content, {});
  const unsanitised = await client.sendEmail(templateId, 'someone@example.com', { personalisation: { name: 'Ada' } });
  assert.deepEqual(unsanitised.data.sanitised_content, {});
}

async function sms() {
  // A simulated number (§1.4): accepted and stored, never sent, so no provider is needed here.
  const response = await client.sendSms(smsId, '+447700900111', { personalisation: { name: 'Foo' }, reference: 'sms-ref' });
  assert.equal(response.status, 201);
  const sent = response.data;
  assert.deepEqual(sent, {
    id: sent.id, reference: 'sms-ref', content: { body: 'Hello Foo', from_number: 'Herald' },
    uri: `${base}/v2/notifications/${sent.id}`,
    template: { id: smsId, version: 1, uri: `${base}/services/${serviceId}/templates/${smsId}` },
    scheduled_for: null,
  });
  const got = (await client.getNotificationById(sent.id)).data;
  assert.deepEqual(got, {
    id: sent.id, reference: 'sms-ref', email_address: null, phone_number: '+447700900111',
    line_1: null, line_2: null, line_3: null, line_4: null, line_5: null, line_6: null, postcode: null,
    type: 'sms', status: 'created',
    template: { id: smsId, version: 1, uri: `${base}/v2/template/${smsId}/version/1` },
    body: 'Hello Foo', subject: null, created_at: got.created_at, created_by_name: null, sent_at: null,
    completed_at: null, scheduled_for: null, postage: null, one_click_unsubscribe_url: null,
    cost_in_pounds: 0.0227, is_cost_data_ready: true,
    cost_details: { billable_sms_fragments: 1, international_rate_multiplier: 1.0, sms_rate: 0.0227 },
  });
  assert.deepEqual((await client.getNotifications('sms')).data.notifications.map((n) => n.id), [sent.id]);
  await expectError(client.sendSms(smsId, '0770090', { personalisation: { name: 'x' } }),
    400, 'ValidationError', 'phone_number Not enough digits');
  await expectError(client.sendSms(smsId, '+1 202 555 0123', { personalisation: { name: 'x' } }),
    400, 'BadRequestError', 'Cannot send to international mobile numbers');
  await expectError(client.sendSms(templateId, '07700900111', { personalisation: { name: 'x' } }),
    400, 'BadRequestError', 'email template is not suitable for sms notification');
  const sender = crypto.randomUUID();
  await expectError(client.sendSms(smsId, '07700900111', { personalisation: { name: 'x' }, smsSenderId: sender }),
    400, 'BadRequestError', `sms_sender_id ${sender} does not exist in database for service id ${serviceId}`);
}

async function listing() {
  const sent = [];
  for (let i = 0; i < 3; i++) {
    sent.push((await client.sendEmail(templateId, `list${i}@example.com`, {
      personalisation: { name: 'L' }, reference: 'list-ref' })).data.id);
  }
  const newestFirst = sent.slice().reverse();
  let page = (await client.getNotifications('email', undefined, 'list-ref')).data;
  assert.deepEqual(Object.keys(page), ['notifications', 'links']);
  assert.deepEqual(page.notifications.map((n) => n.id), newestFirst);
  assert.equal(page.notifications[0].email_address, 'list2@example.com');
  assert.deepEqual(page.links, {
    current: `${base}/v2/notifications?template_type=email&reference=list-ref`,
    next: `${base}/v2/notifications?template_type=email&reference=list-ref&older_than=${sent[0]}`,
  });
  // Every item is the GET-by-id object (read both once the first send has settled).
  const settled = await untilDelivered(sent[0]);
  page = (await client.getNotifications('email', undefined, 'list-ref')).data;
  assert.deepEqual(page.notifications[2], settled);
  page = (await client.getNotifications('email', undefined, 'list-ref', newestFirst[0])).data;
  assert.deepEqual(page.notifications.map((n) => n.id), newestFirst.slice(1));
  page = (await client.getNotifications('email', undefined, 'list-ref', sent[0])).data;
  assert.deepEqual(page, { notifications: [], links: {
    current: `${base}/v2/notifications?template_type=email&reference=list-ref` } }, 'no next on an empty page');
  page = (await client.getNotifications('sms', undefined, 'list-ref')).data;
  assert.deepEqual(page.notifications, []);
  page = (await client.getNotifications(undefined, 'accepted', 'list-ref')).data;
  for (const n of page.notifications) assert.ok(['created', 'sending'].includes(n.status));
  // Without filters: everything this key type sent, newest first.
  page = (await client.getNotifications()).data;
  assert.ok(page.notifications.length >= 4);
  assert.equal(page.notifications[0].id, newestFirst[0]);
  assert.equal(page.links.current, `${base}/v2/notifications`);
  // A test key sees only what test keys sent; another service sees nothing of ours.
  const testKey = new NotifyClient(base, process.env.HERALD_TEST_API_KEY);
  const fromTest = (await testKey.sendEmail(templateId, 'tested@example.com', { personalisation: { name: 'T' } })).data.id;
  assert.deepEqual((await testKey.getNotifications()).data.notifications.map((n) => n.id), [fromTest]);
  assert.ok(!(await client.getNotifications()).data.notifications.some((n) => n.id === fromTest));
  const other = new NotifyClient(base, process.env.HERALD_OTHER_API_KEY);
  assert.deepEqual((await other.getNotifications()).data.notifications, []);
  await expectError(client.getNotifications(undefined, 'elephant'), 400, 'ValidationError',
    'status elephant is not one of [cancelled, created, sending, sent, delivered, pending, failed, technical-failure, ' +
    'temporary-failure, permanent-failure, pending-virus-check, validation-failed, virus-scan-failed, ' +
    'returned-letter, accepted, received]');
  await expectError(client.getNotifications(undefined, undefined, undefined, 'nope'), 400, 'ValidationError',
    'older_than is not a valid UUID');
}

const letterId = process.env.HERALD_LETTER_TEMPLATE_ID;

async function letters() {
  const address = { address_line_1: 'Ada Lovelace', address_line_2: '12 Marylebone Road', postcode: 'NW1 5LR' };
  const response = await client.sendLetter(letterId, { personalisation: { ...address, name: 'Ada' }, reference: 'letter-ref' });
  assert.equal(response.status, 201);
  const sent = response.data;
  assert.deepEqual(sent, {
    id: sent.id, reference: 'letter-ref', content: { subject: 'Hello Ada', body: 'Dear Ada, see you soon.' },
    uri: `${base}/v2/notifications/${sent.id}`,
    template: { id: letterId, version: 1, uri: `${base}/services/${serviceId}/templates/${letterId}` },
    scheduled_for: null,
  });
  const got = (await client.getNotificationById(sent.id)).data;
  assert.match(got.estimated_delivery, timestampPattern);
  assert.deepEqual(got, {
    id: sent.id, reference: 'letter-ref', email_address: null, phone_number: null,
    line_1: 'Ada Lovelace', line_2: '12 Marylebone Road', line_3: null, line_4: null, line_5: null, line_6: null,
    postcode: 'NW1 5LR', type: 'letter', status: 'accepted',
    template: { id: letterId, version: 1, uri: `${base}/v2/template/${letterId}/version/1` },
    body: 'Dear Ada, see you soon.', subject: 'Hello Ada', created_at: got.created_at, created_by_name: null,
    sent_at: null, completed_at: null, scheduled_for: null, postage: 'second', one_click_unsubscribe_url: null,
    estimated_delivery: got.estimated_delivery, cost_in_pounds: null, is_cost_data_ready: false,
    cost_details: { billable_sheets_of_paper: 1, postage: 'second' },
  });
  // The PDF as a Buffer; sent back as a precompiled letter (the client base64-encodes it).
  const pdf = await client.getPdfForLetterNotification(sent.id);
  assert.ok(Buffer.isBuffer(pdf) && pdf.subarray(0, 5).toString() === '%PDF-');
  const pre = await client.sendPrecompiledLetter('pre-ref', pdf, 'first');
  assert.equal(pre.status, 201);
  assert.deepEqual(pre.data, { id: pre.data.id, reference: 'pre-ref', postage: 'first' });
  assert.ok((await client.getPdfForLetterNotification(pre.data.id)).equals(pdf));
  // Errors: the client turns the PDF endpoint's arraybuffer error back into JSON.
  const email = (await client.sendEmail(templateId, 'someone@example.com', { personalisation: { name: 'L' } })).data;
  await expectError(client.getPdfForLetterNotification(email.id), 400, 'BadRequestError', 'Notification is not a letter');
  await expectError(client.sendLetter(letterId, { personalisation: { ...address, postcode: 'nowhere', name: 'x' } }),
    400, 'ValidationError', 'Must be a real UK postcode');
  await expectError(client.sendPrecompiledLetter('r', pdf, 'third'),
    400, 'ValidationError', 'postage invalid. It must be either first, second or economy.');
}

// A page of the download service (HTML or the file), as a browser would ask for it.
function download(method, url, form) {
  return new Promise((resolve, reject) => {
    const headers = form === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' };
    const req = https.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (form !== undefined) req.write(new URLSearchParams(form).toString());
    req.end();
  });
}

// Sending a file by email with the client's own prepareUpload (null keys present), then
// downloading it through the link: the address must be confirmed first.
async function sendFile() {
  const pdf = Buffer.from('%PDF-1.4\n% node e2e file\n%%EOF\n');
  const file = client.prepareUpload(pdf, { filename: 'report.pdf', confirmEmailBeforeDownload: true,
                                           retentionPeriod: '4 weeks' });
  const response = await client.sendEmail(templateId, 'someone@example.com', { personalisation: { name: file } });
  assert.equal(response.status, 201);
  const link = response.data.content.body.match(/https:\/\/\S+\/d\/[0-9a-f-]{36}\/[0-9a-f-]{36}\?key=[\w-]+/)[0];
  assert.ok(link.startsWith(`${base}/d/${serviceId}/`), link);
  assert.ok(!response.data.content.body.includes(file.file), 'the body holds the link, never the file');
  let page = await download('GET', link);
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /Confirm your email address/);
  page = await download('POST', link, { email_address: 'nobody@example.com' });
  assert.equal(page.status, 400);
  page = await download('POST', link, { email_address: 'Someone@Example.com' });
  assert.equal(page.status, 200);
  assert.deepEqual(page.body, pdf);
  assert.equal(page.headers['content-type'], 'application/pdf');
  assert.match(page.headers['content-disposition'], /^attachment; filename="report.pdf"/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal((await download('GET', link.replace(/key=.*/, 'key=AAAA'))).status, 404);
  // Without options: the defaults (confirmation on); a text file sniffed from its content.
  const plain = await client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { name: client.prepareUpload(Buffer.from('just text\n')) } });
  assert.equal(plain.status, 201);
  assert.throws(() => client.prepareUpload(Buffer.alloc(2 * 1024 * 1024 + 1)), /File is larger than 2MB/);
  await expectError(client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { name: client.prepareUpload(pdf, { filename: 'report' }) } }), 400, 'ValidationError',
  'filename `filename` must end with a file extension. For example, filename.csv');
  await expectError(client.sendEmail(templateId, 'someone@example.com', {
    personalisation: { name: client.prepareUpload(pdf, { retentionPeriod: '79 weeks' }) } }), 400, 'ValidationError',
  'retention_period Unsupported value for retention_period: 79 weeks. Supported periods are from 1 to 78 weeks.');
}

(async () => {
  await sendAndGet();
  console.log('ok send and get');
  await templates();
  console.log('ok templates');
  await sms();
  console.log('ok sms');
  await sanitised();
  console.log('ok sanitised');
  await listing();
  console.log('ok listing');
  await clientErrors();
  console.log('ok client errors');
  await rawErrors();
  console.log('ok raw errors');
  await letters();
  console.log('ok letters');
  await sendFile();
  console.log('ok send a file');
})().catch((e) => { console.error(e); process.exit(1); });
