// Shared helpers of the TypeScript SDK suite: the mock's address (set by
// tests/sdk/run-with-mock), tokens through plain fetch (no SDK wraps
// /oauth/token), the admin API, and SDK clients with a given token.
'use strict';
global.XMLHttpRequest = require('xhr2');
const { firstValueFrom } = require('rxjs');
const sdk = require('@cybrid/cybrid-api-bank-typescript');

const BASE = process.env.MOCK_URL;
if (!BASE) throw new Error('MOCK_URL is not set: run through run-with-mock');

const FIXTURES = {
  organization: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  bank: 'b0a1c2d3e4f5061728394a5b6c7d8e9f',
  customer: 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecf',
};

async function token(kind, scope) {
  const body = {
    grant_type: 'client_credentials',
    client_id: `mock-${kind}-client-id`,
    client_secret: `mock-${kind}-client-secret`,
  };
  if (scope) body.scope = scope;
  const r = await fetch(`${BASE}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function admin(method, path, body, type = 'application/json') {
  const r = await fetch(`${BASE}/__admin/${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': type },
    body: body === undefined ? undefined
      : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

function config(jwt) {
  return new sdk.Configuration({ basePath: BASE, accessToken: `Bearer ${jwt}` });
}

function banksApi(jwt) { return new sdk.BanksBankApi(config(jwt)); }
function customersApi(jwt) { return new sdk.CustomersBankApi(config(jwt)); }

// Resolves with the SDK's error for a call that must fail.
async function failure(observable) {
  try {
    await firstValueFrom(observable);
  } catch (err) {
    return err;
  }
  throw new Error('the call succeeded but should have failed');
}

module.exports = {
  BASE, FIXTURES, admin, banksApi, customersApi, failure, firstValueFrom,
  sdk, token,
};
