// Sends emails with the official Node client, unchanged, from CONCURRENCY loops until the file
// STOP_FILE exists, then prints one JSON object: every accepted notification (id, recipient,
// which key) and every failure. Used by tests that change keys while a client keeps sending
// (tests/integration/test_keys.py): they require zero failures.
'use strict';
const fs = require('node:fs');
const { NotifyClient } = require('notifications-node-client');

// HERALD_URLS (comma-separated): several nodes, used in turn; HERALD_URL: one.
const bases = (process.env.HERALD_URLS || process.env.HERALD_URL).split(',');
const keys = process.env.HERALD_API_KEYS.split(',');
const templates = process.env.HERALD_TEMPLATE_IDS.split(',');
const stopFile = process.env.STOP_FILE;
const concurrency = Number(process.env.CONCURRENCY || 8);
const clients = keys.map((key) => bases.map((base) => new NotifyClient(base, key)));

const accepted = [];
const failures = [];
let counter = 0;

async function loop(worker) {
  while (!fs.existsSync(stopFile)) {
    const n = counter++;
    const which = n % clients.length;
    const email = `load-${n}@example.org`;
    try {
      const response = await clients[which][n % bases.length].sendEmail(templates[which], email, {
        personalisation: { n: String(n) },
        reference: `load-${worker}-${n}`,
      });
      accepted.push({ id: response.data.id, email, key: which });
    } catch (e) {
      failures.push({ n, base: bases[n % bases.length], status: e.response ? e.response.status : null,
                      error: String(e.message || e) });
    }
  }
}

Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i))).then(() => {
  process.stdout.write(JSON.stringify({ accepted, failures }));
});
