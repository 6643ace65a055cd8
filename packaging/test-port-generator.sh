#!/bin/sh
# Runs deskprov-port-generator on configurations with and without a port below 1024 and checks
# that the drop-in granting CAP_NET_BIND_SERVICE is written exactly for the former.
# Arguments: the generator and the shipped deskprov.toml (by default those in packaging/;
# `make deb-check` passes the ones unpacked from the .deb).
set -eu

generator=${1:-$(dirname "$0")/deskprov-port-generator}
shipped_config=${2:-$(dirname "$0")/deskprov.toml}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect NAME grant|none CONFIG_TEXT
expect() {
    name=$1 want=$2
    printf '%s\n' "$3" >"$work/$name.toml"
    mkdir -p "$work/$name.out"
    DESKPROV_CONFIG="$work/$name.toml" "$generator" "$work/$name.out" "$work/$name.out" "$work/$name.out"
    dropin="$work/$name.out/deskprov.service.d/50-low-port.conf"
    if [ -f "$dropin" ] && grep -qx 'AmbientCapabilities=CAP_NET_BIND_SERVICE' "$dropin" &&
        grep -qx 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' "$dropin"; then
        got=grant
    elif [ -e "$work/$name.out/deskprov.service.d" ]; then
        got="a drop-in without both capability lines"
    else
        got=none
    fi
    if [ "$got" = "$want" ]; then
        echo "ok   $name: $got"
    else
        echo "FAIL $name: expected $want, got $got"
        failures=$((failures + 1))
    fi
}

expect phone-443 grant '[server]
data_dir = "/var/lib/deskprov/data"
phone_listen = "0.0.0.0:443"'
expect phone-8443 none '[server]
phone_listen = "0.0.0.0:8443"
admin_listen = "127.0.0.1:8444"'
expect admin-80 grant '[server]
phone_listen = "0.0.0.0:8443"
admin_listen = "127.0.0.1:80"   # behind a firewall'
expect ipv6-443 grant '[server]
phone_listen = "[::]:443"'
expect dotted-key-443 grant 'server.phone_listen = "0.0.0.0:443"'
expect commented-443 none '[server]
# phone_listen = "0.0.0.0:443"
phone_listen = "0.0.0.0:8443"'
expect other-section-443 none '[server]
phone_listen = "0.0.0.0:8443"
[hotdesk]
phone_listen = "0.0.0.0:443"'
expect defaults none '[security]
ban_secs = 3600'
expect shipped-config none "$(cat "$shipped_config")"

# No configuration file at all: the defaults (8443, 8444), no drop-in.
mkdir -p "$work/missing.out"
DESKPROV_CONFIG="$work/does-not-exist.toml" "$generator" "$work/missing.out"
if [ -e "$work/missing.out/deskprov.service.d" ]; then
    echo "FAIL missing-config: a drop-in without a configuration"
    failures=$((failures + 1))
else
    echo "ok   missing-config: none"
fi

[ "$failures" -eq 0 ] || { echo "$failures generator case(s) failed"; exit 1; }
