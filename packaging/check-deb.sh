#!/bin/sh
# Checks the Debian package built by `make deb` (`make deb-check`): lintian without errors,
# the conffile, the unit verified by systemd-analyze inside the unpacked package root, its
# exposure score at most 3.0, the port generator's cases, the shipped configuration (one
# deskprov accepts) and the man pages.
set -eu

deb=${1:?usage: check-deb.sh PACKAGE.deb}
max_exposure=${MAX_EXPOSURE:-3.0}   # another only to see the check fail
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "deb-check: $*" >&2; exit 1; }

step "lintian $deb"
lintian --fail-on error --info "$deb"

step "conffiles"
conffiles=$(dpkg-deb --info "$deb" conffiles)
echo "$conffiles"
echo "$conffiles" | grep -qx /etc/deskprov/deskprov.toml || fail "/etc/deskprov/deskprov.toml is not a conffile"

step "unpacked into $root"
dpkg-deb -x "$deb" "$root"
find "$root" -type f | sed "s|^$root||" | grep -v '^/usr/share/man/' | sort
echo "and $(find "$root/usr/share/man" -type f | wc -l) man pages"

unit=deskprov.service
# verify resolves the unit's commands inside the root: the package's own, and kill(1) of
# ExecReload (procps, a dependency), taken from this machine. The root holds none of systemd's
# own units (sysinit.target, ...), so only the package's unit must verify without a warning;
# man pages would be looked up on this machine, where the package is not installed.
cp /usr/bin/kill "$root/usr/bin/kill"
ln -s usr/bin "$root/bin"
verify() {
    systemd-analyze verify --root="$root" --man=no --recursive-errors=no "$unit"
}

step "systemd-analyze verify $unit"
verify

step "systemd-analyze security $unit (at most $max_exposure)"
security() {
    systemd-analyze security --offline=true --root="$root" --no-pager "$unit"
}
report=$(security)
echo "$report" | grep '✗'
# The overall exposure is the last line: "-> Overall exposure level for deskprov.service: 1.2 OK".
echo "$report" | tail -n 1
score=$(echo "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score in systemd-analyze security's output"
awk -v score="$score" -v max="$max_exposure" 'BEGIN { exit !(score <= max) }' ||
    fail "exposure $score is above $max_exposure"
echo "exposure $score <= $max_exposure"

step "the port generator"
"$here/test-port-generator.sh" "$root/usr/lib/systemd/system-generators/deskprov-port-generator" \
    "$root/etc/deskprov/deskprov.toml"

step "with phone_listen on port 443: the drop-in, verified"
sed -i 's/^phone_listen = "0.0.0.0:8443"/phone_listen = "0.0.0.0:443"/' "$root/etc/deskprov/deskprov.toml"
grep -q '^phone_listen = "0.0.0.0:443"' "$root/etc/deskprov/deskprov.toml" || fail "could not set port 443"
dropins="$root/etc/systemd/system"
mkdir -p "$dropins"
DESKPROV_CONFIG="$root/etc/deskprov/deskprov.toml" \
    "$root/usr/lib/systemd/system-generators/deskprov-port-generator" "$dropins"
cat "$dropins/deskprov.service.d/50-low-port.conf"
verify
security | tail -n 1
rm -r "$dropins/deskprov.service.d"

step "the shipped configuration is accepted"
sed -i 's/^phone_listen = "0.0.0.0:443"/phone_listen = "0.0.0.0:8443"/' "$root/etc/deskprov/deskprov.toml"
"$root/usr/bin/deskprov" --config "$root/etc/deskprov/deskprov.toml" templates check

step "the man pages"
man_dir="$root/usr/share/man/man1"
zcat "$man_dir/deskprov.1.gz" | grep -q '^\.TH deskprov 1' || fail "deskprov.1 has no man page header"
# Every page a page refers to (SUBCOMMANDS: deskprov\-devices(1), ...) is in the package.
pages=0
for page in $(zcat "$man_dir"/*.1.gz | sed -n 's/^\(deskprov\\-[a-z\\-]*\)(1)$/\1/p' | sed 's/\\//g' | sort -u); do
    [ -f "$man_dir/$page.1.gz" ] || fail "$page(1) is referred to but not packaged"
    pages=$((pages + 1))
done
[ "$pages" -gt 0 ] || fail "deskprov.1 refers to no subcommand's page"
echo "$(ls "$man_dir" | wc -l) pages; the $pages referred to are all there"
