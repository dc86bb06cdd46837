#!/bin/sh
# Builds the WebAssembly module and its JavaScript glue into pkg/: `node`
# (CommonJS, for Node) and `web` (an ES module, for the playground page).
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the
# version Cargo.lock pins (see docs/embedding.md).
set -eu
cd "$(dirname "$0")"
cargo build --release --locked --target wasm32-unknown-unknown -p warden-wasm
module=../../target/wasm32-unknown-unknown/release/warden_wasm.wasm
wasm-bindgen --target nodejs --out-dir pkg/node "$module"
wasm-bindgen --target web --out-dir pkg/web "$module"
