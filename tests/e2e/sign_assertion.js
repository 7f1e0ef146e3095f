// Prints an NHS Notify client assertion (RS512, signed with npm jsonwebtoken), for the Python
// suites: node sign_assertion.js API_KEY KID PRIVATE_KEY_FILE TOKEN_URL
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');

const [apiKey, kid, keyFile, tokenUrl] = process.argv.slice(2);
process.stdout.write(jwt.sign({}, fs.readFileSync(keyFile, 'utf8'), {
  algorithm: 'RS512', keyid: kid, issuer: apiKey, subject: apiKey, audience: tokenUrl,
  jwtid: crypto.randomUUID(), expiresIn: 180,
}));
