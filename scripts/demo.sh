#!/usr/bin/env bash
# Installs what is missing, builds the plugin, and runs the demo shop on
# http://127.0.0.1:8080 with its SQLite database in ./souk.db. Extra arguments go to
# `souk-server serve` (for example --addr 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
node scripts/build.mjs
cargo build --release -p souk-server
# A demo agent for the console at /agent and a demo merchant for /dashboard (kept if
# the database has them already).
SOUK_AGENT_PASSWORD=souk-demo-agent target/release/souk-server agent add --db souk.db \
  --email agent@darnoor.example --name "Dar Noor team" 2>/dev/null || true
SOUK_AGENT_PASSWORD=souk-demo-owner target/release/souk-server agent add --db souk.db \
  --email owner@darnoor.example --name "Dar Noor owner" --role merchant 2>/dev/null || true
exec target/release/souk-server serve --catalog www/shop/catalog.json --model-every 1h --identity-secret souk_demo_identity_secret --demo-shop --faq www/shop/faq.json "$@"
