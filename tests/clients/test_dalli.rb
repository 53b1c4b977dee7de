# frozen_string_literal: true

# Client-library test: the server driven by Ruby's Dalli 3.0 (Debian's ruby-dalli), which speaks
# only the binary protocol: set/get/get_multi/add/replace/delete/incr/decr (with a default: the
# server creates the key)/append/prepend/cas/get_cas/set_cas/touch/gat/flush/stats/version, quiet
# sets inside `multi`, and values crossing protocols (set here, read with a plain-socket text `get`,
# and the reverse, flags included). Run by test_dalli.sh, which starts the server and passes its
# port in CAIRN_CLIENT_PORT. Prints one line per failure, then exactly "N passed, N failed".

require 'dalli'
require 'logger'
require 'socket'
require 'timeout'

PORT = Integer(ENV.fetch('CAIRN_CLIENT_PORT', '0'))
if PORT <= 0
  warn 'CAIRN_CLIENT_PORT is not set (run through test_dalli.sh)'
  exit 2
end
Dalli.logger = Logger.new($stderr, level: Logger::ERROR)

class Failure < StandardError; end

def check(cond, what)
  raise Failure, what unless cond
end

def same(expected, got, what)
  raise Failure, "#{what}: expected #{expected.inspect}, got #{got.inspect}" unless expected == got
end

def client(**opts)
  Dalli::Client.new("127.0.0.1:#{PORT}", { socket_timeout: 2, socket_max_failures: 1,
                                           down_retry_delay: 0, compress: false }.merge(opts))
end

# Dalli 3.0.6 unpacks the CAS of a response header in the host's byte order (its RESP_HEADER ends in
# 'Q', not 'Q>') and packs request CAS values the same way, so its own round trips work; this is the
# CAS as the server sent it, to compare with the text protocol's.
def wire_cas(dalli_cas)
  [dalli_cas].pack('Q').unpack1('Q>')
end

# A text-protocol request on a fresh socket; reads until the reply ends with finish.
def text(request, finish)
  Timeout.timeout(5) do
    s = TCPSocket.new('127.0.0.1', PORT)
    begin
      s.write(request)
      data = +''
      data << s.readpartial(65_536) until data.end_with?(finish)
      data
    rescue EOFError
      data
    ensure
      s.close
    end
  end
end

TESTS = {}

TESTS['set_get'] = lambda do
  c = client
  check(c.set('k', 'hello', nil, raw: true), 'set')
  same('hello', c.get('k'), 'get')
  same(nil, c.get('nosuch'), 'get missing')
  bin = "a\r\nb\0c\r\n\xff".b
  check(c.set('bin', bin, nil, raw: true), 'set binary')
  same(bin, c.get('bin'), 'get binary')
  check(c.set('empty', '', nil, raw: true), 'set empty')
  same('', c.get('empty'), 'get empty')
  big = (0..255).map(&:chr).join.b * 2000
  check(c.set('big', big, nil, raw: true), 'set 512000 bytes')
  same(big, c.get('big'), 'get 512000 bytes')
  key = 'k' * 250
  check(c.set(key, 'long key', nil, raw: true), 'set a 250-byte key')
  same('long key', c.get(key), 'get a 250-byte key')
end

TESTS['serialized_values_and_flags'] = lambda do
  c = client
  # Dalli marshals values unless raw: flags 1 (serialized); raw strings have flags 0
  check(c.set('obj', { 'a' => [1, 2] }), 'set a Hash')
  same({ 'a' => [1, 2] }, c.get('obj'), 'get a Hash')
  check(c.set('num', 42), 'set an Integer')
  same(42, c.get('num'), 'get an Integer')
  check(c.set('raw', 'plain', nil, raw: true), 'set raw')
  check(text("get obj\r\n", "END\r\n").start_with?('VALUE obj 1 '), 'text get: serialized flags 1')
  same("VALUE raw 0 5\r\nplain\r\nEND\r\n", text("get raw\r\n", "END\r\n"), 'text get of a raw value')
end

TESTS['text_set_binary_get'] = lambda do
  c = client
  same("STORED\r\n" * 2, text("set tb 0 0 5\r\nhello\r\nset tm 1 0 #{Marshal.dump([1, 'x']).bytesize}\r\n" \
                              "#{Marshal.dump([1, 'x'])}\r\n", "STORED\r\n" * 2), 'text sets')
  same('hello', c.get('tb'), 'raw value set by text')
  same([1, 'x'], c.get('tm'), 'marshalled value (flags 1) set by text')
  same({ 'tb' => 'hello', 'tm' => [1, 'x'] }, c.get_multi('tb', 'tm', 'missing'), 'get_multi of text values')
end

TESTS['binary_set_text_get'] = lambda do
  c = client
  cas = c.set('x', 'payload', nil, raw: true)
  check(cas.is_a?(Integer) && cas.positive?, "set answers the CAS: #{cas.inspect}")
  got = text("gets x\r\nmg x f s\r\n", "HD f0 s7\r\n")
  same("VALUE x 0 7 #{wire_cas(cas)}\r\npayload\r\nEND\r\nHD f0 s7\r\n", got, 'text gets and mg')
end

TESTS['get_multi_and_quiet_multi'] = lambda do
  c = client
  values = (0...300).to_h { |i| ["m#{i}", i.to_s * (i % 50 + 1)] }
  c.multi do
    values.each { |k, v| c.set(k, v, nil, raw: true) }
  end
  got = c.get_multi(*values.keys, 'missing1', 'missing2')
  same(values.size, got.size, 'get_multi size')
  same(values, got, 'get_multi after quiet sets')
  same({}, c.get_multi('missing'), 'get_multi of a missing key')
  same({}, c.get_multi, 'get_multi of nothing')
  seen = {}
  c.get_multi('m1', 'm2', 'nosuch') { |k, v| seen[k] = v }
  same({ 'm1' => values['m1'], 'm2' => values['m2'] }, seen, 'get_multi with a block')
end

TESTS['add_replace'] = lambda do
  c = client
  check(c.add('k', 'first', nil, raw: true), 'add')
  check(!c.add('k', 'second', nil, raw: true), 'add existing')
  same('first', c.get('k'), 'after add')
  # a miss answers the CAS field of the NOT FOUND response: 0
  same(0, c.replace('nosuch', 'x', nil, raw: true), 'replace missing')
  same(nil, c.get('nosuch'), 'after replace missing')
  check(c.replace('k', 'third', nil, raw: true), 'replace')
  same('third', c.get('k'), 'after replace')
end

TESTS['delete'] = lambda do
  c = client
  c.set('k', 'v', nil, raw: true)
  same(true, c.delete('k'), 'delete')
  same(nil, c.delete('k'), 'delete missing')
  same(nil, c.get('k'), 'after delete')
end

TESTS['incr_decr'] = lambda do
  c = client
  same(nil, c.incr('nosuch', 1), 'incr missing without default')
  same(nil, c.get('nosuch'), 'incr missing does not create')
  same(10, c.incr('ctr', 5, nil, 10), 'incr with a default creates')
  same(15, c.incr('ctr', 5, nil, 10), 'incr after create')
  same('15', c.get('ctr', raw: true), 'value after incr')
  same(100, c.decr('dctr', 1, 60, 100), 'decr with a default creates')
  c.set('n', '10', nil, raw: true)
  same(15, c.incr('n', 5), 'incr')
  same(0, c.decr('n', 20), 'decr below zero')
  c.set('max', '18446744073709551615', nil, raw: true)
  same(0, c.incr('max', 1), 'incr wraps')
  c.set('n', '99', nil, raw: true)
  same(100, c.incr('n', 1), 'incr to 3 digits')
  same("VALUE n 0 3\r\n100\r\nEND\r\n", text("get n\r\n", "END\r\n"), 'text get after incr')
  c.set('s', 'abc', nil, raw: true)
  begin
    c.incr('s', 1)
    raise Failure, 'incr of a non-numeric value did not raise'
  rescue Dalli::DalliError => e
    check(e.message.include?('Response error 6:'), "non-numeric error: #{e.message}")
  end
  same('abc', c.get('s'), 'non-numeric value unchanged')
end

TESTS['append_prepend'] = lambda do
  c = client
  c.set('k', 'mid', nil, raw: true)
  check(c.append('k', '_end'), 'append')
  check(c.prepend('k', 'start_'), 'prepend')
  same('start_mid_end', c.get('k'), 'after append and prepend')
  check(!c.append('nosuch', 'x'), 'append missing')
  check(!c.prepend('nosuch', 'x'), 'prepend missing')
  same(nil, c.get('nosuch'), 'append does not create')
end

TESTS['cas'] = lambda do
  c = client
  c.set('k', 'v1', nil, raw: true)
  value, cas = c.get_cas('k')
  same('v1', value, 'get_cas value')
  check(cas.is_a?(Integer) && cas.positive?, "get_cas: #{cas.inspect}")
  same("VALUE k 0 2 #{wire_cas(cas)}\r\nv1\r\nEND\r\n", text("gets k\r\n", "END\r\n"), 'the CAS over text')
  new_cas = c.set_cas('k', 'v2', cas, nil, raw: true)
  check(new_cas && new_cas != cas, "set_cas: #{new_cas.inspect}")
  same('v2', c.get('k'), 'after set_cas')
  same(false, c.set_cas('k', 'v3', cas, nil, raw: true), 'set_cas stale')
  same('v2', c.get('k'), 'after stale set_cas')
  check(c.cas('k', nil, raw: true) { |v| "#{v}+" }, 'cas block')
  same('v2+', c.get('k'), 'after cas block')
  same(nil, c.cas('nosuch') { |_v| 'x' }, 'cas of a missing key')
  same(false, c.delete_cas('k', cas), 'delete_cas stale')
  _, cas = c.get_cas('k')
  same(true, c.delete_cas('k', cas), 'delete_cas')
  same(nil, c.get('k'), 'after delete_cas')
end

TESTS['touch_gat_and_expiry'] = lambda do
  c = client
  c.set('k', 'v', nil, raw: true)
  same(true, c.touch('k', 100), 'touch')
  got = text("mg k t\r\n", "\r\n")
  check(["HD t100\r\n", "HD t99\r\n"].include?(got), "ttl after touch: #{got.inspect}")
  same(nil, c.touch('nosuch', 100), 'touch missing')
  same('v', c.gat('k', 200), 'gat')
  got = text("mg k t\r\n", "\r\n")
  check(["HD t200\r\n", "HD t199\r\n"].include?(got), "ttl after gat: #{got.inspect}")
  same(nil, c.gat('nosuch', 10), 'gat missing')
  c.set('short', 'v', 1, raw: true)
  same('v', c.get('short'), 'before expiry')
  sleep 2.2
  same(nil, c.get('short'), 'after expiry')
end

TESTS['flush'] = lambda do
  c = client
  c.set('a', '1', nil, raw: true)
  c.set('b', '2', nil, raw: true)
  same([true], c.flush, 'flush')
  same({}, c.get_multi('a', 'b'), 'after flush')
  same("END\r\n", text("get a\r\n", "END\r\n"), 'text get after flush')
end

TESTS['stats_and_version'] = lambda do
  c = client
  %w[a b c].each { |k| c.set(k, k, nil, raw: true) }
  c.get('a')
  c.get('zz')
  name = "127.0.0.1:#{PORT}"
  all = c.stats
  check(all.key?(name), "stats for #{name}: #{all.keys.inspect}")
  st = all[name]
  check(st['curr_items'].to_i >= 3, "curr_items #{st['curr_items']}")
  check(st['get_hits'].to_i >= 1 && st['get_misses'].to_i >= 1, 'get_hits/get_misses')
  same((64 << 20).to_s, st['limit_maxbytes'], 'limit_maxbytes')
  versions = c.version
  check(versions.key?(name), "a version for #{name}")
  same("VERSION #{versions[name]}\r\n", text("version\r\n", "\r\n"), 'binary and text version')
  same(versions[name], st['version'], 'version in stats')
  items = c.stats(:items)[name]
  check(items.key?('items:1:number'), "stats items: #{items.keys.first(3).inspect}")
  settings = c.stats(:settings)[name]
  same('1048576', settings['item_size_max'], 'stats settings item_size_max')
  c.reset_stats
  same('0', c.stats[name]['get_hits'], 'get_hits after reset_stats')
end

passed = 0
failed = 0
TESTS.each do |name, fn|
  c = client
  # a broken server fails each test after one timeout, not one per key
  raise Failure, 'flush, set and get before the test' unless
    c.flush == [true] && c.set('cairn:probe', 'ok', nil, raw: true) && c.get('cairn:probe') == 'ok'

  fn.call
  passed += 1
rescue StandardError => e
  failed += 1
  puts "FAIL #{name}: #{e.class}: #{e.message}"
ensure
  c&.close
end
puts "#{passed} passed, #{failed} failed"
exit(failed.zero? ? 0 : 1)
