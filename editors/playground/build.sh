#!/bin/sh
# Builds the playground into dist/: the page, the engine as WebAssembly for
# the web (bindings/wasm/build.sh) and the VS Code extension's grammar.
# Serve dist/ over HTTP (browsers load WebAssembly only from a server), e.g.
# `python3 -m http.server --directory editors/playground/dist`.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
sh "$here/../../bindings/wasm/build.sh"
rm -rf "$here/dist"
mkdir -p "$here/dist/pkg"
cp "$here/index.html" "$here/playground.js" "$here/playground.css" "$here/dist/"
cp "$here/../../bindings/wasm/pkg/web/warden_wasm.js" "$here/../../bindings/wasm/pkg/web/warden_wasm_bg.wasm" "$here/dist/pkg/"
cp "$here/../vscode/syntaxes/warden.tmLanguage.json" "$here/dist/"
