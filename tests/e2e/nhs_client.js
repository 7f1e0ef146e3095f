// An NHS Notify integration written as NHS's documentation tells integrators to: a client
// assertion signed with the application's private key by a standard JWT library (jsonwebtoken,
// RS512, kid in the header, iss = sub = the API key, aud = the token URL, a fresh jti, exp at most
// five minutes ahead), exchanged at /oauth2/token for a bearer token that authorises the comms
// API. Knows nothing of Herald's internals: only the URL, API key, kid and key file.
'use strict';
const fs = require('fs');
const https = require('https');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');

const base = process.env.HERALD_URL;
const apiKey = process.env.NHS_API_KEY;
const kid = process.env.NHS_KID;
const privateKey = fs.readFileSync(process.env.NHS_PRIVATE_KEY_FILE, 'utf8');
const tokenUrl = base + '/oauth2/token';

function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(base + path, { method, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function clientAssertion() {
  return jwt.sign({}, privateKey, {
    algorithm: 'RS512',
    keyid: kid,
    issuer: apiKey,
    subject: apiKey,
    audience: tokenUrl,
    jwtid: crypto.randomUUID(),
    expiresIn: 300,
  });
}

function tokenRequest(assertion) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  }).toString();
  return request('POST', '/oauth2/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
}

// Reads a message until its status is final (delivered or failed), for up to 60 seconds.
async function until(id, auth) {
  for (let i = 0; i < 600; i++) {
    const r = await request('GET', '/comms/v1/messages/' + id, auth);
    check(r.status === 200, 'status: ' + r.status + ' ' + r.body);
    const data = JSON.parse(r.body).data;
    if (data.attributes.messageStatus === 'delivered' || data.attributes.messageStatus === 'failed') return data;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  check(false, 'message ' + id + ' never settled');
  return null;
}

function check(condition, message) {
  if (!condition) {
    console.error('FAILED: ' + message);
    process.exit(1);
  }
}

(async () => {
  const assertion = clientAssertion();
  const token = await tokenRequest(assertion);
  check(token.status === 200, 'token: ' + token.status + ' ' + token.body);
  const body = JSON.parse(token.body);
  check(typeof body.access_token === 'string' && body.token_type === 'Bearer' && body.expires_in === '599',
    'token body ' + token.body);

  const replay = await tokenRequest(assertion);
  check(replay.status === 400 && JSON.parse(replay.body).error_description ===
    "Non-unique 'jti' claim in client_assertion JWT", 'replayed assertion: ' + replay.body);

  const auth = { Authorization: 'Bearer ' + body.access_token, Accept: 'application/vnd.api+json',
    'X-Correlation-Id': 'e2e-correlation' };
  const accounts = await request('GET', '/comms/channels/nhsapp/accounts?ods-organisation-code=A12345', auth);
  check(accounts.status === 404, 'accounts: ' + accounts.status + ' ' + accounts.body);
  check(accounts.headers['x-correlation-id'] === 'e2e-correlation', 'correlation id echoed');
  check(accounts.headers['content-type'].startsWith('application/vnd.api+json'), 'JSON:API media type');
  const error = JSON.parse(accounts.body).errors[0];
  check(error.code === 'CM_NOT_FOUND' && error.status === '404' && error.detail === 'Report not found',
    'accounts error ' + accounts.body);

  // Send a message on NHS's free-text email plan, then read its status back.
  const send = await request('POST', '/comms/v1/messages',
    Object.assign({ 'Content-Type': 'application/vnd.api+json' }, auth),
    JSON.stringify({ data: { type: 'Message', attributes: {
      routingPlanId: '00000000-0000-0000-0000-000000000002',
      messageReference: crypto.randomUUID(),
      recipient: { nhsNumber: '9990548609' },
      personalisation: { email_subject: 'Your appointment', email_body: 'See you on Monday.' },
    } } }));
  check(send.status === 201, 'send: ' + send.status + ' ' + send.body);
  const created = JSON.parse(send.body).data;
  check(/^[A-Za-z0-9]{27}$/.test(created.id) && created.attributes.messageStatus === 'created', 'created ' + send.body);
  check(send.headers.location === '/v1/messages/' + created.id, 'Location ' + send.headers.location);
  const status = await request('GET', '/comms/v1/messages/' + created.id, auth);
  check(status.status === 200, 'status: ' + status.status + ' ' + status.body);
  const message = JSON.parse(status.body).data;
  check(message.id === created.id && message.attributes.routingPlan.id === '00000000-0000-0000-0000-000000000002',
    'status body ' + status.body);
  check(!status.body.includes('9990548609'), 'no NHS number in the answer');

  // The message goes on without the client: enriched from the recipient's record, sent by email,
  // delivered (the operator's mail relay took it). Poll as NHS's documentation suggests.
  const final = await until(created.id, auth);
  check(final.attributes.messageStatus === 'delivered', 'delivered ' + JSON.stringify(final));
  const email = final.attributes.channels[0];
  check(final.attributes.channels.length === 1 && email.type === 'email' && email.cascadeType === 'primary' &&
    email.cascadeOrder === 1 && email.channelStatus === 'delivered' && email.supplierStatus === 'delivered' &&
    typeof email.timestamps.delivered === 'string', 'email channel ' + JSON.stringify(email));
  check(typeof final.attributes.timestamps.enriched === 'string' && final.attributes.metadata[0].source === 'pds',
    'enrichment ' + JSON.stringify(final.attributes));

  // A batch: one recipient who can be messaged, one whose record says they have died.
  const batch = await request('POST', '/comms/v1/message-batches',
    Object.assign({ 'Content-Type': 'application/vnd.api+json' }, auth),
    JSON.stringify({ data: { type: 'MessageBatch', attributes: {
      routingPlanId: '00000000-0000-0000-0000-000000000003',
      messageBatchReference: crypto.randomUUID(),
      messages: [
        { messageReference: 'batch-1', recipient: { nhsNumber: '9990548609' },
          personalisation: { sms_body: 'Your test results are ready.' } },
        { messageReference: 'batch-2', recipient: { nhsNumber: '9434765919' },
          personalisation: { sms_body: 'Your test results are ready.' } },
      ],
    } } }));
  check(batch.status === 201, 'batch: ' + batch.status + ' ' + batch.body);
  const ids = JSON.parse(batch.body).data.attributes.messages.map((m) => m.id);
  const deceased = await until(ids[1], auth);
  check(deceased.attributes.messageStatus === 'failed' &&
    deceased.attributes.messageFailureReasonCode === 'MFR_PDSV_0112' &&
    deceased.attributes.messageStatusDescription === 'Failed reason: Patient is formally dead' &&
    deceased.relationships.messageBatch.data.type === 'MessageBatch', 'deceased ' + JSON.stringify(deceased));
  // No SMS provider is configured in this test: the SMS channel fails for want of one, which
  // the message shows as a supplier failure (never as delivered).
  const sms = await until(ids[0], auth);
  check(sms.attributes.messageStatus === 'failed' && sms.attributes.channels[0].type === 'sms' &&
    sms.attributes.channels[0].channelStatus === 'failed', 'sms ' + JSON.stringify(sms));

  // A message on the operator's own plan: the template's email, filled with the request's
  // personalisation and the recipient's record.
  const planned = await request('POST', '/comms/v1/messages',
    Object.assign({ 'Content-Type': 'application/vnd.api+json' }, auth),
    JSON.stringify({ data: { type: 'Message', attributes: {
      routingPlanId: process.env.NHS_PLAN_ID,
      messageReference: crypto.randomUUID(),
      recipient: { nhsNumber: '9990548609' },
      personalisation: { when: 'Tuesday' },
    } } }));
  check(planned.status === 201, 'planned: ' + planned.status + ' ' + planned.body);
  const plan = JSON.parse(planned.body).data.attributes.routingPlan;
  check(plan.id === process.env.NHS_PLAN_ID && plan.name === 'Appointments' && plan.version === '1' &&
    typeof plan.createdDate === 'string', 'routing plan ' + planned.body);
  const plannedFinal = await until(JSON.parse(planned.body).data.id, auth);
  check(plannedFinal.attributes.messageStatus === 'delivered' &&
    plannedFinal.attributes.channels[0].routingPlan.type === 'original', 'planned ' + JSON.stringify(plannedFinal));

  const noToken = await request('GET', '/comms/channels/nhsapp/accounts?ods-organisation-code=A12345', {});
  check(noToken.status === 401 && JSON.parse(noToken.body).errors[0].code === 'CM_DENIED', 'no token: ' + noToken.body);
  console.log('nhs client: token, replay refused, message sent, delivered and read, batch statuses, errors in NHS form');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
