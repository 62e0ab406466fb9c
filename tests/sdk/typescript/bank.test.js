// Cybrid's official TypeScript bank SDK against the mock: tokens, banks
// with their CORS rules, customers with and without PII, customer tokens,
// token expiry and rate limits. Each test starts from the default
// scenario's initial state.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const DEFAULT_SCENARIO = 'name: sdk-default\nextends: default\n';

async function useScenario(yaml) {
  const r = await h.admin('PUT', 'scenario', yaml, 'application/yaml');
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test.beforeEach(async () => {
  await useScenario(DEFAULT_SCENARIO);
  assert.equal((await h.admin('POST', 'reset')).status, 200);
});

test('bank and organization tokens come from /oauth/token', async () => {
  const bank = await h.token('bank', 'banks:read banks:write');
  assert.equal(bank.status, 200);
  assert.equal(bank.body.token_type, 'Bearer');
  assert.equal(bank.body.scope, 'banks:read banks:write');
  assert.equal(bank.body.expires_in, 28800);
  const claims = JSON.parse(Buffer.from(
    bank.body.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.sub, h.FIXTURES.bank);
  assert.equal(claims.sub_type, 'bank');
  const org = await h.token('org');
  assert.equal(org.status, 200);
  const orgClaims = JSON.parse(Buffer.from(
    org.body.access_token.split('.')[1], 'base64url'));
  assert.equal(orgClaims.sub, h.FIXTURES.organization);
  assert.equal(orgClaims.sub_type, 'organization');
});

test('listBanks and getBank return the default bank', async () => {
  const jwt = (await h.token('bank')).body.access_token;
  const api = h.banksApi(jwt);
  const list = await h.firstValueFrom(api.listBanks({ perPage: 10 }));
  assert.equal(list.total, 1);
  assert.equal(list.per_page, 10);
  assert.equal(list.objects[0].guid, h.FIXTURES.bank);
  const bank = await h.firstValueFrom(api.getBank({ bankGuid: h.FIXTURES.bank }));
  assert.equal(bank.name, 'Mock Sandbox Bank');
  assert.equal(bank.type, 'sandbox');
  assert.equal(bank.organization_guid, h.FIXTURES.organization);
  assert.deepEqual(bank.cors_allowed_origins, ['http://localhost:3000']);
});

test('updateBank follows the cors_allowed_origins rules', async () => {
  const jwt = (await h.token('bank')).body.access_token;
  const api = h.banksApi(jwt);
  const bankGuid = h.FIXTURES.bank;
  const origins = ['https://app.example.com', 'http://localhost:5173'];
  const updated = await h.firstValueFrom(api.updateBank({
    bankGuid, patchBankBankModel: { cors_allowed_origins: origins } }));
  assert.deepEqual(updated.cors_allowed_origins, origins);

  const err = await h.failure(api.updateBank({
    bankGuid,
    patchBankBankModel: { cors_allowed_origins: ['http://example.com'] } }));
  assert.equal(err.status, 422);
  assert.equal(err.response.error_message,
    'CORS allowed origins must all be valid HTTPS URIs');
  assert.equal(err.response.message_code, 'invalid_parameter');
  const unchanged = await h.firstValueFrom(api.getBank({ bankGuid }));
  assert.deepEqual(unchanged.cors_allowed_origins, origins);

  const cleared = await h.firstValueFrom(api.updateBank({
    bankGuid, patchBankBankModel: { cors_allowed_origins: [] } }));
  assert.deepEqual(cleared.cors_allowed_origins, []);
});

test('customers are created, listed and read with and without PII',
  async () => {
    const jwt = (await h.token('bank')).body.access_token;
    const api = h.customersApi(jwt);
    const made = await h.firstValueFrom(api.createCustomer({
      postCustomerBankModel: {
        type: 'individual',
        name: { first: 'Ada', last: 'Lovelace' },
        date_of_birth: '1815-12-10',
        email_address: 'ada@example.com',
      } }));
    assert.equal(made.type, 'individual');
    assert.equal(made.bank_guid, h.FIXTURES.bank);
    assert.match(made.guid, /^[0-9a-f]{32}$/);

    const list = await h.firstValueFrom(api.listCustomers({}));
    assert.equal(list.total, 2);
    assert.equal(list.objects[0].guid, made.guid, 'newest first');

    const plain = await h.firstValueFrom(
      api.getCustomer({ customerGuid: made.guid }));
    assert.equal(plain.name, null);
    assert.equal(plain.email_address, null);
    const pii = await h.firstValueFrom(
      api.getCustomer({ customerGuid: made.guid, includePii: true }));
    assert.equal(pii.name.first, 'Ada');
    assert.equal(pii.email_address, 'ada@example.com');
  });

test('a customer token reads its own customer and no other', async () => {
  const bankJwt = (await h.token('bank')).body.access_token;
  const other = await h.firstValueFrom(h.customersApi(bankJwt).createCustomer({
    postCustomerBankModel: { type: 'individual',
      name: { first: 'Other', last: 'Person' } } }));
  const r = await fetch(`${h.BASE}/api/customer_tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json',
      Authorization: `Bearer ${bankJwt}` },
    body: JSON.stringify({ customer_guid: h.FIXTURES.customer,
      scopes: ['customers:read'] }),
  });
  assert.equal(r.status, 201);
  const customerJwt = (await r.json()).access_token;
  const api = h.customersApi(customerJwt);
  const own = await h.firstValueFrom(
    api.getCustomer({ customerGuid: h.FIXTURES.customer }));
  assert.equal(own.guid, h.FIXTURES.customer);
  assert.equal(own.state, 'verified');
  const err = await h.failure(api.getCustomer({ customerGuid: other.guid }));
  assert.equal(err.status, 404);
});

test('a bank token past its lifetime gets 401 from the SDK', async () => {
  await useScenario('name: short-tokens\nextends: default\n' +
    'tokens:\n  bank_ttl: 60s\n');
  const got = await h.token('bank');
  assert.equal(got.body.expires_in, 60);
  const api = h.banksApi(got.body.access_token);
  await h.firstValueFrom(api.getBank({ bankGuid: h.FIXTURES.bank }));
  assert.equal((await h.admin('POST', 'clock/advance', { seconds: 61 })).status,
    200);
  const err = await h.failure(api.getBank({ bankGuid: h.FIXTURES.bank }));
  assert.equal(err.status, 401);
});

test('rate limits: 429 with Retry-After, and a token 403 unlike a scope 403',
  async () => {
    await useScenario('name: tight\nextends: default\nrate_limits:\n' +
      '  general: {limit: 2, window: 1m}\n' +
      '  oauth_token: {limit: 2, window: 1m}\n');
    const jwt = (await h.token('bank', 'customers:read')).body.access_token;
    const api = h.banksApi(jwt);
    const scopeErr = await h.failure(api.getBank({ bankGuid: h.FIXTURES.bank }));
    assert.equal(scopeErr.status, 403);
    await h.failure(api.getBank({ bankGuid: h.FIXTURES.bank }));
    const limited = await h.failure(api.getBank({ bankGuid: h.FIXTURES.bank }));
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.xhr.getResponseHeader('Retry-After'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal(limited.response.message_code, 'rate_limited');

    assert.equal((await h.token('bank')).status, 200);
    const tokenLimited = await h.token('bank');
    assert.equal(tokenLimited.status, 403);
    assert.equal(tokenLimited.body.message_code, 'rate_limited');
    assert.notEqual(scopeErr.response.message_code, 'rate_limited');
  });
