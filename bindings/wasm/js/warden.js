'use strict';
// Warden for JavaScript: the engine as WebAssembly, in-process. Decisions
// are the decision JSON every Warden entry point gives.
const native = require('../pkg/node/warden_wasm.js');

/** An error from the engine, with its permanent code and, when the
 *  policies do not compile, every coded diagnostic. */
class WardenError extends Error {
  constructor({ code, message, diagnostics }) {
    super(code ? `[${code}] ${message}` : message);
    this.name = diagnostics && diagnostics.length ? 'CompileError' : 'WardenError';
    this.code = code || null;
    this.diagnostics = diagnostics || [];
  }
}

/** Longer than any input the engine takes (8 MiB of UTF-8 is at most this
 *  many UTF-16 characters). */
const INPUT_LIMIT = 8 << 20;

function call(f) {
  try {
    return f();
  } catch (e) {
    if (typeof e === 'string') throw new WardenError(JSON.parse(e));
    throw e;
  }
}

function millis(now) {
  if (now === undefined || now === null) return Date.now();
  if (now instanceof Date) return now.getTime();
  const ms = native.parseTime(String(now));
  if (ms === undefined) {
    throw new WardenError({ code: null, message: `now: \`${now}\` is not an RFC 3339 time` });
  }
  return ms;
}

class Engine {
  constructor(inner) {
    this.inner = inner;
  }

  /** Compiles policy texts by path (`{"rules.warden": "package p ..."}`;
   *  other paths are JSON files the policies name), then merges `data`. */
  static compile(files, data) {
    if (files === null || typeof files !== 'object') throw new TypeError('files: give policy texts by path');
    const json = data === undefined ? undefined : JSON.stringify(data);
    return new Engine(call(() => native.Engine.compile(JSON.stringify(files), json)));
  }

  /** Decides `input` against `target` at `now` (RFC 3339 text, a Date, or
   *  the current time). */
  decide(target, input, { now, explain = false } = {}) {
    return this.decideJson(target, JSON.stringify(input), { now, explain });
  }

  /** [`decide`] for an input given as JSON text: numbers past 2^53 (which
   *  a JavaScript number cannot hold) reach the engine as written. */
  decideJson(target, inputJson, { now, explain = false } = {}) {
    if (typeof target !== 'string') throw new TypeError("target: give the target's name as a string");
    const text = String(inputJson);
    // The engine refuses an input past its size limit (E0407); refused
    // here, it is never copied into WebAssembly memory, which never shrinks.
    if (text.length > INPUT_LIMIT) {
      throw new WardenError({ code: 'E0407', message: `the input is longer than ${INPUT_LIMIT} characters` });
    }
    const ms = millis(now);
    return JSON.parse(call(() => this.inner.decide(target, text, ms, explain)));
  }

  /** The policy sources' revision (`sha256:…`). */
  get revision() {
    return this.inner.revision();
  }
}

/** Every diagnostic of a set of policy texts: what an editor shows as one types. */
function diagnostics(files) {
  return JSON.parse(call(() => native.diagnostics(JSON.stringify(files))));
}

module.exports = { Engine, WardenError, diagnostics };
