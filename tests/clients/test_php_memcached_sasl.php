<?php
// Client-library test: PHP's Memcached extension (on libmemcached) authenticating with SASL PLAIN
// over the binary protocol (setSaslAuthData; php runs with memcached.use_sasl=1). The server runs
// with -Y (alice:secret, admin; bob:pw, role app): the right password reads and writes, a wrong one
// gets AUTHENTICATION FAILURE, and bob's flush leaves the items in place (the server answers
// "Auth failure."; libmemcached does not report a flush's refusal, as with memcached's -F). Run by
// test_php_memcached_sasl.sh, which passes the port in CAIRN_CLIENT_PORT. Prints one line per
// failure, then exactly "N passed, N failed".

$port = (int) getenv('CAIRN_CLIENT_PORT');
if ($port <= 0) {
    fwrite(STDERR, "CAIRN_CLIENT_PORT is not set (run through test_php_memcached_sasl.sh)\n");
    exit(2);
}

class Failure extends Exception
{
}

function same($expected, $got, $what)
{
    if ($expected !== $got) {
        throw new Failure($what . ': expected ' . var_export($expected, true) . ', got ' . var_export($got, true));
    }
}

function client($port, $user, $pass)
{
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 2000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 2000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 2000000);
    $m->addServer('127.0.0.1', $port);
    $m->setSaslAuthData($user, $pass);
    return $m;
}

$tests = [];

$tests['right_password'] = function ($port) {
    $m = client($port, 'alice', 'secret');
    same(true, $m->set('k', 'hello'), 'set');
    same('hello', $m->get('k'), 'get');
    same(true, $m->set('n', '5'), 'set n');
    same(6, $m->increment('n'), 'increment');
    same(true, $m->delete('k'), 'delete');
    same(false, $m->get('k'), 'get after delete');
};

$tests['wrong_password'] = function ($port) {
    $m = client($port, 'alice', 'wrong');
    same(false, $m->set('x', '1'), 'set with a wrong password');
    same(Memcached::RES_AUTH_FAILURE, $m->getResultCode(), 'result code');
    same(false, client($port, 'alice', 'secret')->get('x'), 'nothing stored');
};

$tests['app_user'] = function ($port) {
    $a = client($port, 'alice', 'secret');
    same(true, $a->set('shared', 'v'), 'alice set');
    $b = client($port, 'bob', 'pw');
    same('v', $b->get('shared'), 'bob get');
    same(true, $b->set('mine', 'w'), 'bob set');
    $b->flush();
    same('v', $a->get('shared'), 'after bob\'s flush');
    same('w', $a->get('mine'), 'after bob\'s flush');
};

$passed = 0;
$failed = 0;
foreach ($tests as $name => $fn) {
    try {
        client($port, 'alice', 'secret')->flush();
        $fn($port);
        $passed++;
    } catch (Throwable $e) {
        $failed++;
        echo "FAIL $name: " . $e->getMessage() . "\n";
    }
}
echo "$passed passed, $failed failed\n";
exit($failed > 0 ? 1 : 0);
