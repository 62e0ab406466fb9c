// Example: Cybrid's TypeScript bank SDK against cybrid-mock.
//
//   NODE_EXTRA_CA_CERTS=$TLS_DIR/ca.pem MOCK_URL=https://127.0.0.1:8443 \
//       node examples/get-bank.js
//
// (Install the SDK, rxjs and xhr2 first; tests/sdk/typescript has them.)
'use strict';
global.XMLHttpRequest = require('xhr2');
const { firstValueFrom } = require('rxjs');
const { Configuration, BanksBankApi } =
  require('@cybrid/cybrid-api-bank-typescript');

const base = process.env.MOCK_URL || 'https://127.0.0.1:8443';

async function main() {
  // No SDK wraps /oauth/token: a plain request with client credentials.
  const r = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: 'mock-bank-client-id',
      client_secret: 'mock-bank-client-secret',
      scope: 'banks:read',
    }),
  });
  const { access_token: jwt } = await r.json();
  const banks = new BanksBankApi(new Configuration({
    basePath: base, accessToken: `Bearer ${jwt}` }));
  const bank = await firstValueFrom(
    banks.getBank({ bankGuid: 'b0a1c2d3e4f5061728394a5b6c7d8e9f' }));
  console.log(`${bank.guid} ${bank.name} ${bank.type}`);
}

main().catch((err) => {
  console.error(`get-bank: ${err.status || ''} ${err.message}`);
  process.exit(1);
});
