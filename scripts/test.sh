#!/usr/bin/env bash
# Every test souk has, in layers: native Rust, wasm in headless Chromium, packaging
# smoke tests and end-to-end tests on the demo shop, then the size budget.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --browser
node scripts/build.mjs

echo "== style: rustfmt and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p souk --lib --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p souk-recommend --lib --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p souk-chat --lib --target wasm32-unknown-unknown -- -D warnings

echo "== native: cargo test --workspace"
cargo test --workspace

echo "== wasm in Chromium: tests/web.rs"
CHROMEDRIVER=/usr/bin/chromedriver cargo test -p souk --target wasm32-unknown-unknown --test web

echo "== packaging and end-to-end: node --test"
cargo build -p souk-server
node --test --test-concurrency=1 tests/packaging/ tests/e2e/

echo "== size budget"
node scripts/size.mjs
