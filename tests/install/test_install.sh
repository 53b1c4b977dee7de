#!/bin/sh
# Install test: `make install` into a scratch DESTDIR puts the binary, the man page, the systemd unit
# and the commented configuration in place; the man page names every option `cairn -h` lists and has
# no roff warnings (groff, when installed); the installed configuration parses; the unit names the
# installed paths and passes `systemd-analyze verify` (when installed); a second install keeps an
# edited configuration; `make uninstall` leaves no file behind.
#
# Run from the build tree by `make check` (abs_top_builddir is the current directory); prints one
# line per failed check, then "N passed, N failed".
set -u
top=$(pwd)
dest=$(mktemp -d /tmp/cairn-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

prefix=$(sed -n 's/^prefix = //p' Makefile)
sysconfdir=$(sed -n 's/^sysconfdir = //p' Makefile | sed "s|\${prefix}|$prefix|")
make -s install DESTDIR="$dest" >"$dest.log" 2>&1
check '[ $? -eq 0 ]' "make install failed: $(tail -5 "$dest.log")"
root="$dest$prefix"
etc="$dest$(echo "$sysconfdir" | sed "s|\${prefix}|$prefix|")"
bin="$root/bin/cairn"
man="$root/share/man/man1/cairn.1"
unit=$(find "$dest" -name cairn.service | head -1)
conf="$etc/cairn/cairn.conf"
check '[ -x "$bin" ]' "no binary at $bin"
check '[ -f "$man" ]' "no man page at $man"
check '[ -n "$unit" ] && [ -f "$unit" ]' "no systemd unit installed"
check '[ -f "$conf" ]' "no configuration at $conf"

# Every long option of the help is in the man page (roff escapes each '-' as '\-').
for opt in $("$bin" -h | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	esc=$(echo "$opt" | sed 's/-/\\\\-/g')
	check 'grep -q -- "$esc" "$man"' "man page lacks $opt"
done
if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -ww -z "$man" 2>&1)
	check '[ -z "$warn" ]' "groff warnings: $warn"
fi

# The installed configuration parses (and the unit's ExecStart binary and config are the installed ones).
out=$(CAIRN_CONFIG= "$bin" --config="$conf" -V 2>&1)
check '[ "$out" = "cairn $(sed -n "s/^PACKAGE_VERSION = //p" Makefile)" ]' "config does not parse: $out"
check 'grep -q "^ExecStart=$prefix/bin/cairn --config=$(echo "$sysconfdir" | sed "s|\${prefix}|$prefix|")/cairn/cairn.conf" "$unit"' \
	"unit's ExecStart: $(grep ExecStart "$unit")"
check 'grep -q "^Type=notify" "$unit" && grep -q "^ProtectSystem=strict" "$unit" && grep -q "^NoNewPrivileges=yes" "$unit"' \
	"unit lacks readiness or hardening"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify resolves ExecStart: point it at the DESTDIR copy (the man page is not on the system's path).
	sed "s|=$prefix/bin/cairn|=$bin|" "$unit" >"$dest/cairn.service"
	v=$(systemd-analyze verify "$dest/cairn.service" 2>&1 | grep -v -e "Command 'man cairn(1)'" || true)
	check '[ -z "$v" ]' "systemd-analyze verify: $v"
fi

# An edited configuration survives a second install.
echo "-m 128" >>"$conf"
make -s install DESTDIR="$dest" >/dev/null 2>&1
check 'tail -1 "$conf" | grep -q -- "-m 128"' "reinstall overwrote the edited configuration"
sed -i '$d' "$conf"

make -s uninstall DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" -type f | grep -v "/cairn.service$" | head -5)
[ -f "$dest/cairn.service" ] && rm -f "$dest/cairn.service"
left=$(find "$dest" -type f | head -5)
check '[ -z "$left" ]' "left after uninstall: $left"
rm -f "$dest.log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
