// Client test: node-redis (npm package `redis`, v5) against a RESP port, once with RESP2 and once
// with RESP3 (HELLO 3 at connect, as clients that default to RESP3 do): strings with options, nulls,
// MGET, INCRBY/INCRBYFLOAT, TTL, EXISTS/DEL, a MULTI/EXEC transaction, WATCH that aborts EXEC when the
// key changed, SCAN through scanIterator, HELLO's map, CLIENT SETNAME/GETNAME, a binary-safe value and
// DBSIZE. Every expectation was checked against redis-server 7.0 (run with --redis in the .sh).
//
// Usage: node test_node_redis.mjs PORT (the module is resolved from NODE_PATH's node_modules).
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

async function connect(proto) {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, RESP: proto,
                           socket: { connectTimeout: 5000, reconnectStrategy: false } });
  c.on('error', (e) => { failed++; console.log(`FAIL RESP${proto} client error: ${e.message}`); });
  await c.connect();
  return c;
}

async function run(proto) {
  const p = `RESP${proto}`;
  const k = (s) => `node:${proto}:${s}`;
  const c = await connect(proto);
  await c.del([k('s'), k('n'), k('f'), k('t'), k('w'), k('b')]);
  check(`${p} ping`, 'PONG', await c.ping());
  check(`${p} set EX`, 'OK', await c.set(k('s'), 'v1', { EX: 100 }));
  check(`${p} get`, 'v1', await c.get(k('s')));
  check(`${p} get missing`, null, await c.get(k('missing')));
  check(`${p} set NX on existing`, null, await c.set(k('s'), 'v2', { NX: true }));
  check(`${p} set GET`, 'v1', await c.set(k('s'), 'v3', { GET: true, KEEPTTL: true }));
  check(`${p} ttl kept`, 100, await c.ttl(k('s')));
  check(`${p} mget`, ['v3', null], await c.mGet([k('s'), k('missing')]));
  check(`${p} incrby`, 5, await c.incrBy(k('n'), 5));
  check(`${p} decr`, 4, await c.decr(k('n')));
  check(`${p} incrbyfloat`, '1.5', await c.incrByFloat(k('f'), 1.5));
  check(`${p} exists`, 2, await c.exists([k('s'), k('n'), k('missing')]));
  check(`${p} pexpire`, 1, await c.pExpire(k('n'), 50000));
  const pttl = await c.pTTL(k('n'));
  check(`${p} pttl in range`, true, pttl > 49000 && pttl <= 50000);
  check(`${p} multi/exec`, ['OK', 2, '2'], await c.multi().set(k('t'), '1').incr(k('t')).get(k('t')).exec());

  // WATCH: another connection changes the key, so EXEC is aborted.
  const other = await connect(proto);
  await c.set(k('w'), 'a');
  await c.watch(k('w'));
  await other.set(k('w'), 'b');
  let aborted = false;
  try {
    await c.multi().set(k('w'), 'c').exec();
  } catch (e) {
    aborted = e.constructor.name === 'WatchError' || /watch/i.test(e.message);
  }
  check(`${p} watch aborts exec`, true, aborted);
  check(`${p} watched key kept`, 'b', await other.get(k('w')));
  await other.quit();

  const bin = Buffer.from([0, 1, 2, 255, 13, 10, 0]);
  check(`${p} binary set`, 'OK', await c.set(k('b'), bin));
  const back = await c.withTypeMapping({ [3]: Buffer, [36]: Buffer }).get(k('b'));
  check(`${p} binary get`, bin.toString('hex'), Buffer.from(back).toString('hex'));

  const keys = [];
  for await (const batch of c.scanIterator({ MATCH: `node:${proto}:*`, COUNT: 2 }))
    keys.push(...(Array.isArray(batch) ? batch : [batch]));
  check(`${p} scanIterator`, [k('b'), k('f'), k('n'), k('s'), k('t'), k('w')], [...new Set(keys)].sort());

  check(`${p} client setname`, 'OK', await c.clientSetName(`node-${proto}`));
  check(`${p} client getname`, `node-${proto}`, await c.clientGetName());
  const hello = await c.hello();
  check(`${p} hello proto`, proto, hello.proto);
  check(`${p} hello server`, 'redis', hello.server);
  check(`${p} type`, 'string', await c.type(k('s')));
  check(`${p} del`, 6, await c.del([k('s'), k('n'), k('f'), k('t'), k('w'), k('b')]));
  check(`${p} dbsize after del`, 0, (await c.scan('0', { MATCH: `node:${proto}:*`, COUNT: 1000 })).keys.length);
  await c.quit();
}

try {
  await run(2);
  await run(3);
} catch (e) {
  failed++;
  console.log(`FAIL exception: ${e.stack || e}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
