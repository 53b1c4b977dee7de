// Client test: node-redis (npm package `redis`, v5) connecting with credentials, with RESP2 (AUTH
// user pass at connect) and RESP3 (HELLO 3 AUTH user pass): the user it is, items, the app role's
// refusal, and a wrong password refused at connect. Run by test_redis_auth.py against a server with
// alice:secret (admin) and bob:pw (app); checked against redis-server 7.0 with --redis there.
//
// Usage: node test_node_redis_auth.mjs PORT (the module is resolved from NODE_PATH's node_modules).
// Prints one line per failed check, then "N passed, N failed"; exits 1 on any failure.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
const { createClient } = require('redis');
const port = Number(process.argv[2]);
let passed = 0;
let failed = 0;

function check(name, expected, actual) {
  if (isDeepStrictEqual(expected, actual)) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${name}\n  expected: ${JSON.stringify(expected)}\n  got:      ${JSON.stringify(actual)}`);
  }
}

function client(proto, username, password) {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, RESP: proto, username, password,
                           socket: { connectTimeout: 5000, reconnectStrategy: false } });
  c.on('error', () => {});
  return c;
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e.message;
  }
}

async function run(proto) {
  const p = `RESP${proto}`;
  const a = client(proto, 'alice', 'secret');
  await a.connect();
  check(`${p} whoami alice`, 'alice', await a.sendCommand(['ACL', 'WHOAMI']));
  check(`${p} set`, 'OK', await a.set(`node:auth:${proto}`, 'v'));
  check(`${p} get`, 'v', await a.get(`node:auth:${proto}`));
  await a.quit();

  const b = client(proto, 'bob', 'pw');
  await b.connect();
  check(`${p} bob get`, 'v', await b.get(`node:auth:${proto}`));
  check(`${p} bob flushall`, "NOPERM this user has no permissions to run the 'flushall' command",
        await errorOf(b.flushAll()));
  await b.quit();

  const w = client(proto, 'alice', 'wrong');
  check(`${p} wrong password`, 'WRONGPASS invalid username-password pair or user is disabled.',
        await errorOf(w.connect()));
  if (w.isOpen) await w.disconnect();
}

try {
  await run(2);
  await run(3);
} catch (e) {
  failed++;
  console.log(`FAIL exception: ${e.stack}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
