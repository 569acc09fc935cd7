#!/usr/bin/env bash
# Installs what hopwatch's demo and tests need on a fresh Debian machine with Node:
# Debian packages (as root; otherwise one line saying what to install) and npm ci.
# Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# nginx-light: the lab's ingress controller; dnsmasq-base: the lab's DNS server
# (the binary only, no system service); haproxy: the lab's second controller.
# With --tests also chromium (the dashboard's browser tests) and prometheus (its
# promtool checks and unit-tests the alert rules; the service is not started).
# With --bench only the peers `npm run bench` measures hopwatch beside (bench/peers.ts,
# bench/peers-history.ts): prometheus-blackbox-exporter and prometheus, no npm ci
# (bench/run.js calls it; the services are not started, the bench runs its own on loopback).
APT_PACKAGES=(nginx-light dnsmasq-base haproxy)
if [ "${1:-}" = "--tests" ]; then APT_PACKAGES+=(chromium prometheus); fi
if [ "${1:-}" = "--bench" ]; then APT_PACKAGES=(prometheus prometheus-blackbox-exporter); fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "hopwatch: missing Debian packages; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  # Debian starts nginx, haproxy and prometheus as services on install (binding 0.0.0.0);
  # policy-rc.d forbids that: the lab runs its own instances on loopback only.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    # Removed however apt-get ends, so the machine's services are not blocked afterwards.
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--bench" ]; then exit 0; fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Say how long up front: the first run sits silent while npm fetches and builds better-sqlite3.
  echo "setup: npm ci (the first run takes about a minute; later runs skip it)" >&2
  npm ci --no-audit --no-fund >&2
fi
