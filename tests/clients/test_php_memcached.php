<?php
// Client-library test: the server driven by PHP's Memcached extension (php-memcached, on
// libmemcached) with Memcached::OPT_BINARY_PROTOCOL: set/get/getMulti/setMulti/add/replace/delete/
// increment/decrement (with an initial value)/append/prepend/cas/touch/flush/getStats/getVersion,
// and values crossing protocols (set here, read with a plain-socket text `get`, and the reverse,
// flags included). Run by test_php_memcached.sh, which starts the server and passes its port in
// CAIRN_CLIENT_PORT. Prints one line per failure, then exactly "N passed, N failed".

$port = (int) getenv('CAIRN_CLIENT_PORT');
if ($port <= 0) {
    fwrite(STDERR, "CAIRN_CLIENT_PORT is not set (run through test_php_memcached.sh)\n");
    exit(2);
}

class Failure extends Exception
{
}

function check($cond, $what)
{
    if (!$cond) {
        throw new Failure($what);
    }
}

function same($expected, $got, $what)
{
    if ($expected !== $got) {
        throw new Failure($what . ': expected ' . var_export($expected, true) . ', got ' . var_export($got, true));
    }
}

function client($port)
{
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 2000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 2000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 2000000);
    $m->setOption(Memcached::OPT_POLL_TIMEOUT, 2000);
    $m->addServer('127.0.0.1', $port);
    return $m;
}

// A text-protocol request on a fresh socket; reads until the reply ends with $end.
function text($port, $request, $end)
{
    $s = fsockopen('127.0.0.1', $port, $errno, $errstr, 5);
    check($s !== false, "connect: $errstr");
    stream_set_timeout($s, 5);
    fwrite($s, $request);
    $data = '';
    while (substr($data, -strlen($end)) !== $end) {
        $chunk = fread($s, 65536);
        if ($chunk === false || $chunk === '') {
            $meta = stream_get_meta_data($s);
            if ($meta['timed_out'] || feof($s)) {
                break;
            }
        }
        $data .= $chunk;
    }
    fclose($s);
    return $data;
}

$tests = [];

$tests['set_get'] = function ($port) {
    $m = client($port);
    same(true, $m->set('k', 'hello'), 'set');
    same('hello', $m->get('k'), 'get');
    same(false, $m->get('nosuch'), 'get missing');
    same(Memcached::RES_NOTFOUND, $m->getResultCode(), 'get missing: result code');
    $bin = "a\r\nb\0c\r\n\xff";
    same(true, $m->set('bin', $bin), 'set binary');
    same($bin, $m->get('bin'), 'get binary');
    same(true, $m->set('empty', ''), 'set empty');
    same('', $m->get('empty'), 'get empty');
    $big = str_repeat(implode('', array_map('chr', range(0, 255))), 2000);
    same(true, $m->set('big', $big), 'set 512000 bytes');
    same($big, $m->get('big'), 'get 512000 bytes');
    $key = str_repeat('k', 250);
    same(true, $m->set($key, 'long key'), 'set 250-byte key');
    same('long key', $m->get($key), 'get 250-byte key');
};

$tests['typed_values_and_flags'] = function ($port) {
    $m = client($port);
    // php-memcached keeps the PHP type in the low flags: string 0, int 1, float 2, bool 3,
    // serialized 4.
    $m->set('s', 'text');
    $m->set('i', 42);
    $m->set('f', 1.5);
    $m->set('b', true);
    $m->set('a', [1, 'two']);
    same('text', $m->get('s'), 'string');
    same(42, $m->get('i'), 'int');
    same(1.5, $m->get('f'), 'float');
    same(true, $m->get('b'), 'bool');
    same([1, 'two'], $m->get('a'), 'array');
    $got = text($port, "get s i f b\r\n", "END\r\n");
    same("VALUE s 0 4\r\ntext\r\nVALUE i 1 2\r\n42\r\nVALUE f 2 3\r\n1.5\r\nVALUE b 3 1\r\n1\r\nEND\r\n", $got,
        'text get of typed values');
    check(strpos(text($port, "get a\r\n", "END\r\n"), "VALUE a 4 ") === 0, 'serialized array flags');
};

$tests['user_flags'] = function ($port) {
    $m = client($port);
    // OPT_USER_FLAGS: the flags of the following stores, in the upper 16 bits
    check($m->setOption(Memcached::OPT_USER_FLAGS, 0x1234), 'OPT_USER_FLAGS');
    same(true, $m->set('u', 'v'), 'set with user flags');
    same("VALUE u 305397760 1\r\nv\r\nEND\r\n", text($port, "get u\r\n", "END\r\n"),
        'text get: user flags in the upper 16 bits');
    $res = $m->get('u', null, Memcached::GET_EXTENDED);
    same(0x1234, $res['flags'], 'user flags read back');
};

$tests['text_set_binary_get'] = function ($port) {
    $m = client($port);
    same("STORED\r\nSTORED\r\nSTORED\r\n",
        text($port, "set tb 0 0 5\r\nhello\r\nset ti 1 0 3\r\n123\r\nset tz 3 0 0\r\n\r\n", "STORED\r\nSTORED\r\nSTORED\r\n"),
        'text sets');
    same('hello', $m->get('tb'), 'string set by text');
    same(123, $m->get('ti'), 'int (flags 1) set by text');
    same(false, $m->get('tz'), 'bool false (flags 3, empty) set by text');
    same(['tb' => 'hello', 'ti' => 123], $m->getMulti(['tb', 'ti', 'missing']), 'getMulti of text values');
};

$tests['binary_set_text_get'] = function ($port) {
    $m = client($port);
    same(true, $m->set('x', 'payload'), 'set');
    same(true, $m->set('n', 7), 'set int');
    $got = text($port, "gets x\r\nmg n f v\r\n", "\r\n7\r\n");
    check(preg_match("/^VALUE x 0 7 (\\d+)\r\npayload\r\nEND\r\nVA 1 f1\r\n7\r\n$/", $got, $mm) === 1,
        'text read: ' . var_export($got, true));
    $res = $m->get('x', null, Memcached::GET_EXTENDED);
    same((int) $mm[1], $res['cas'], 'the CAS over both protocols');
};

$tests['get_multi_set_multi'] = function ($port) {
    $m = client($port);
    $values = [];
    for ($i = 0; $i < 300; $i++) {
        $values["m$i"] = str_repeat("$i", $i % 50 + 1);
    }
    same(true, $m->setMulti($values), 'setMulti');
    $got = $m->getMulti(array_merge(array_keys($values), ['missing1', 'missing2']));
    ksort($got);
    ksort($values);
    same($values, $got, 'getMulti');
    same([], $m->getMulti(['missing']), 'getMulti of a missing key');
    $res = $m->deleteMulti(['m1', 'm2', 'missing']);
    same(true, $res['m1'], 'deleteMulti m1');
    same(Memcached::RES_NOTFOUND, $res['missing'], 'deleteMulti missing');
    same(['m3' => $values['m3']], $m->getMulti(['m1', 'm2', 'm3']), 'after deleteMulti');
};

$tests['add_replace'] = function ($port) {
    $m = client($port);
    same(true, $m->add('k', 'first'), 'add');
    same(false, $m->add('k', 'second'), 'add existing');
    // over the binary protocol an ADD of an existing key answers "exists"
    same(Memcached::RES_DATA_EXISTS, $m->getResultCode(), 'add existing: result code');
    same('first', $m->get('k'), 'after add');
    same(false, $m->replace('nosuch', 'x'), 'replace missing');
    same(false, $m->get('nosuch'), 'after replace missing');
    same(true, $m->replace('k', 'third'), 'replace');
    same('third', $m->get('k'), 'after replace');
};

$tests['delete'] = function ($port) {
    $m = client($port);
    $m->set('k', 'v');
    same(true, $m->delete('k'), 'delete');
    same(false, $m->delete('k'), 'delete missing');
    same(Memcached::RES_NOTFOUND, $m->getResultCode(), 'delete missing: result code');
    same(false, $m->get('k'), 'after delete');
};

$tests['increment_decrement'] = function ($port) {
    $m = client($port);
    same(false, $m->increment('nosuch', 1), 'increment missing');
    same(false, $m->get('nosuch'), 'increment missing does not create');
    // an initial value: the binary protocol creates the key
    same(10, $m->increment('ctr', 5, 10), 'increment with initial value');
    same(15, $m->increment('ctr', 5, 10), 'increment after create');
    same(100, $m->decrement('dctr', 1, 100, 60), 'decrement with initial value');
    $m->set('n', '10');
    same(15, $m->increment('n', 5), 'increment');
    same(0, $m->decrement('n', 20), 'decrement below zero');
    $m->set('max', '18446744073709551615');
    same(0, $m->increment('max', 1), 'increment wraps');
    $m->set('n', '99');
    same(100, $m->increment('n', 1), 'increment to 3 digits');
    same("VALUE n 0 3\r\n100\r\nEND\r\n", text($port, "get n\r\n", "END\r\n"), 'text get after increment');
    $m->set('s', 'abc');
    same(false, $m->increment('s', 1), 'increment non-numeric');
    same('abc', $m->get('s'), 'non-numeric unchanged');
};

$tests['append_prepend'] = function ($port) {
    $m = client($port);
    $m->set('k', 'mid');
    same(true, $m->append('k', '_end'), 'append');
    same(true, $m->prepend('k', 'start_'), 'prepend');
    same('start_mid_end', $m->get('k'), 'after append and prepend');
    same(false, $m->append('nosuch', 'x'), 'append missing');
    same(false, $m->prepend('nosuch', 'x'), 'prepend missing');
    same(false, $m->get('nosuch'), 'append does not create');
};

$tests['cas'] = function ($port) {
    $m = client($port);
    $m->set('k', 'v1');
    $res = $m->get('k', null, Memcached::GET_EXTENDED);
    same('v1', $res['value'], 'get extended');
    check($res['cas'] != 0, 'a CAS');
    same(true, $m->cas($res['cas'], 'k', 'v2'), 'cas');
    same('v2', $m->get('k'), 'after cas');
    same(false, $m->cas($res['cas'], 'k', 'v3'), 'cas stale');
    same(Memcached::RES_DATA_EXISTS, $m->getResultCode(), 'cas stale: result code');
    same('v2', $m->get('k'), 'after stale cas');
    same(false, $m->cas(12345, 'nosuch', 'x'), 'cas missing');
    same(Memcached::RES_NOTFOUND, $m->getResultCode(), 'cas missing: result code');
};

$tests['touch_and_expiry'] = function ($port) {
    $m = client($port);
    $m->set('k', 'v');
    same(true, $m->touch('k', 100), 'touch');
    $got = text($port, "mg k t\r\n", "\r\n");
    check($got === "HD t100\r\n" || $got === "HD t99\r\n", 'ttl after touch: ' . var_export($got, true));
    same(false, $m->touch('nosuch', 100), 'touch missing');
    $m->set('short', 'v', 1);
    same('v', $m->get('short'), 'before expiry');
    usleep(2200000);
    same(false, $m->get('short'), 'after expiry');
};

$tests['flush'] = function ($port) {
    $m = client($port);
    $m->setMulti(['a' => '1', 'b' => '2']);
    same(true, $m->flush(), 'flush');
    same([], $m->getMulti(['a', 'b']), 'after flush');
    same("END\r\n", text($port, "get a\r\n", "END\r\n"), 'text get after flush');
};

$tests['stats_and_version'] = function ($port) {
    $m = client($port);
    $m->setMulti(['a' => '1', 'b' => '2', 'c' => '3']);
    $m->get('a');
    $m->get('zz');
    $all = $m->getStats();
    $name = "127.0.0.1:$port";
    check(isset($all[$name]), 'stats for ' . $name . ': ' . implode(',', array_keys($all)));
    $st = $all[$name];
    check($st['curr_items'] >= 3, 'curr_items ' . $st['curr_items']);
    check($st['get_hits'] >= 1 && $st['get_misses'] >= 1, 'get_hits/get_misses');
    same(64 << 20, (int) $st['limit_maxbytes'], 'limit_maxbytes');
    $versions = $m->getVersion();
    check(isset($versions[$name]), 'a version for ' . $name);
    // libmemcached parses the VERSION answer into three numbers and php-memcached prints them: what
    // follows them ("-cairn-..." on cairn) is not kept
    $tv = text($port, "version\r\n", "\r\n");
    check(strpos($tv, "VERSION " . $versions[$name]) === 0, "binary and text version: {$versions[$name]}, $tv");
    check(strpos($st['version'], $versions[$name]) === 0, "version in stats: {$st['version']}");
    $items = $m->getStats('items');
    check(isset($items[$name]['items:1:number']), 'stats items');
};

$passed = 0;
$failed = 0;
foreach ($tests as $name => $fn) {
    try {
        $m = client($port);
        // a broken server fails each test after one timeout, not one per key of setMulti
        if (!$m->flush() || !$m->set('cairn:probe', 'ok') || $m->get('cairn:probe') !== 'ok') {
            throw new Failure('flush, set and get before the test: ' . $m->getResultMessage());
        }
        $fn($port);
        $passed++;
    } catch (Throwable $e) {
        $failed++;
        echo "FAIL $name: " . $e->getMessage() . "\n";
    }
}
echo "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
