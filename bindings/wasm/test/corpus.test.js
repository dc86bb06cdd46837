'use strict';
// The decision corpus (tests/decisions) decided through WebAssembly: each
// case exactly as its `.decision` file says, the file the Rust library's
// runner (crates/warden/tests/decisions.rs) holds it to.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { Engine, WardenError, diagnostics } = require('../js/warden.js');

const root = path.resolve(__dirname, '../../..');
const corpus = path.join(root, 'tests/decisions');

function filesBelow(dir, base = dir, out = {}) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) filesBelow(full, base, out);
    else out[path.relative(base, full).split(path.sep).join('/')] = fs.readFileSync(full, 'utf8');
  }
  return out;
}

/** The text of a top-level member's value in JSON `text`, as written: a
 *  case's input may hold integers a JavaScript number cannot. */
function rawMember(text, key) {
  const member = new RegExp(`"${key}"\\s*:`).exec(text);
  let i = member.index + member[0].length;
  while (/\s/.test(text[i])) i++;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return text.slice(i, j);
      depth--;
      if (depth === 0) return text.slice(i, j + 1);
    } else if (c === ',' && depth === 0) return text.slice(i, j);
  }
  return text.slice(i);
}

function project(decision) {
  for (const volatile of ['decision_id', 'policy_revision', 'data_revision']) delete decision[volatile];
  return decision;
}

const cases = [];
for (const suite of fs.readdirSync(corpus).sort()) {
  const dir = path.join(corpus, suite, 'cases');
  if (!fs.existsSync(dir)) continue;
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.json')) cases.push([suite, path.join(dir, name)]);
  }
}

test('the corpus is all there', () => {
  assert.ok(cases.length >= 80, `${cases.length} cases`);
});

const policies = new Map();
for (const [suite, file] of cases) {
  test(`${suite}/${path.basename(file, '.json')}`, () => {
    const suiteDir = path.join(corpus, suite);
    if (!policies.has(suite)) policies.set(suite, filesBelow(path.join(suiteDir, 'policy')));
    const text = fs.readFileSync(file, 'utf8');
    const spec = JSON.parse(text);
    let data = spec.data;
    for (const extra of spec.data_files || []) {
      data = { ...(data || {}), ...JSON.parse(fs.readFileSync(path.join(suiteDir, extra), 'utf8')) };
    }
    const expected = fs.readFileSync(file.replace(/\.json$/, '.decision'), 'utf8');
    const engine = Engine.compile(policies.get(suite), data);
    let actual;
    try {
      const input = rawMember(text, 'input');
      assert.deepStrictEqual(JSON.parse(input), spec.input);
      actual = project(engine.decideJson(spec.target, input, { now: spec.now, explain: !!spec.explain }));
    } catch (e) {
      assert.ok(e instanceof WardenError, String(e));
      assert.strictEqual(`error ${e.code}\n${e.message.replace(/^\[[A-Z0-9]+\] /, '')}\n`, expected);
      return;
    }
    assert.ok(!expected.startsWith('error '), `expected ${expected.split('\n')[0]}`);
    assert.deepStrictEqual(actual, JSON.parse(expected));
  });
}

test('a typo is a coded diagnostic, and fixed it decides', () => {
  const typo = { 'p.warden': 'package p\n\ntarget request: { user: string } default allow\n\nrule r on request as q {\n  deny when q.usr == "x"\n}\n' };
  const found = diagnostics(typo);
  assert.strictEqual(found[0].code, 'E0102');
  assert.strictEqual(found[0].line, 6);
  assert.throws(() => Engine.compile(typo), (e) => e.code === 'E0102' && e.diagnostics.length > 0);
  const fixed = { 'p.warden': typo['p.warden'].replace('q.usr', 'q.user') };
  assert.deepStrictEqual(diagnostics(fixed), []);
  const engine = Engine.compile(fixed);
  assert.strictEqual(engine.decide('request', { user: 'x' }).decision, 'deny');
  assert.strictEqual(engine.decide('request', { user: 'y' }, { now: new Date(0) }).evaluated_at, '1970-01-01T00:00:00Z');
  assert.throws(() => engine.decide('nope', {}), (e) => e.code === 'E0404');
});

test('inputs the engine cannot take are errors, never traps', () => {
  const files = { 'p.warden': 'package p\n\ntarget request: { user: string } default allow\n\nrule r on request as q {\n  deny when q.user == "x"\n}\n' };
  const engine = Engine.compile(files);
  for (const now of ['1969-12-31T23:59:59Z', '0000-01-01T00:00:00Z', new Date(-1), 'yesterday']) {
    assert.throws(() => engine.decide('request', { user: 'x' }, { now }), WardenError, String(now));
  }
  assert.throws(() => engine.decide(5, {}), TypeError);
  assert.throws(() => Engine.compile({ 'p.warden': Buffer.from(files['p.warden']) }), /not a string/);
  assert.throws(() => engine.decideJson('request', 'x'.repeat((8 << 20) + 1)), (e) => e.code === 'E0407');
  // The engine is still whole after each refusal.
  assert.strictEqual(engine.decide('request', { user: 'x' }).decision, 'deny');
});
