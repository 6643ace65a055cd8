#!/bin/sh
# Installs what the tests need, only what is missing: Debian packages (apt's lists updated once,
# and only when something is missing; sudo when not root) and the npm packages pinned in
# tests/browser/package-lock.json (npm ci into tests/browser/node_modules). Quick when everything
# is present: no network, a dpkg-query per package and one file comparison.
set -eu
cd "$(dirname "$0")/.."

# Debian packages the tests need, one a line.
# chromium, chromium-driver: the browser tests (tests/integration/browser.rs);
# libnss3-tools: certutil, which makes that browser trust the tests' CA;
# postgresql: the second storage backend, which the tests start on a free loopback port;
# python3-aiosmtpd: the SMTP server the mail tests send to (run with /usr/bin/python3).
debian_packages="
chromium
chromium-driver
libnss3-tools
postgresql
python3-aiosmtpd
"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=""
for package in $debian_packages; do
	installed "$package" || missing="$missing $package"
done
if [ -n "$missing" ]; then
	echo "tests/setup.sh: installing Debian packages:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# npm ci installs exactly the committed lock file; a copy of the lock kept beside what it
# installed tells whether node_modules is that installation (a changed pin reinstalls).
browser=tests/browser
installed_lock="$browser/node_modules/.installed-package-lock.json"
if ! cmp -s "$browser/package-lock.json" "$installed_lock"; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "tests/setup.sh: npm is missing: the browser tests need it to install $browser/package-lock.json" >&2
		exit 1
	fi
	echo "tests/setup.sh: installing $browser/package-lock.json with npm ci"
	(cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$browser/package-lock.json" "$installed_lock"
fi
