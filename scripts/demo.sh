#!/usr/bin/env bash
# `npm run demo`: the whole system on one machine. Installs what is missing (npm packages; the
# Prometheus Debian package where apt-get is available), then runs `wva-metrics demo` on the pinned
# Node 24. Arguments pass through: `npm run demo -- --duration 60 --interval 5s`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/tsx ]; then
  echo "demo: installing npm packages (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi

if ! command -v prometheus >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  fi
  if command -v apt-get >/dev/null 2>&1 && [ "$sudo" != "none" ]; then
    echo "demo: installing Prometheus (Debian package 'prometheus', apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends prometheus >&2
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
      echo "demo: note: the package also started a system Prometheus service on :9090 (the demo does not use it; 'sudo systemctl disable --now prometheus' stops it)" >&2
    fi
  else
    echo "demo: Prometheus is not on PATH: install it (Debian/Ubuntu: 'sudo apt-get install prometheus'; macOS: 'brew install prometheus'; others: https://prometheus.io/download/) and run again, or pass --prometheus <path>" >&2
    # A --prometheus flag may still point at a binary; let the CLI decide.
    case " $* " in *" --prometheus "*) ;; *) exit 1 ;; esac
  fi
fi

exec node_modules/.bin/node --import tsx src/cli/main.ts demo "$@"
