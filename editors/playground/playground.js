// The Warden playground: the engine as WebAssembly (bindings/wasm, built
// for the web), the VS Code extension's TextMate grammar for colours, and
// the policy and input kept in the URL fragment for sharing. Nothing is
// sent anywhere.
import init, { Engine, diagnostics as diagnose, parseTime } from './pkg/warden_wasm.js';

const $ = (id) => document.getElementById(id);
const EXAMPLE_POLICY = `package demo

type Request = { user: string, action: "read" | "write", mfa: bool }

/// Requests from people.
target request: Request default deny

/// Anyone may read; writing needs MFA.
@severity(high) @control("IAM-2")
rule access on request as r {
  allow when r.action == "read"
  allow when r.action == "write" and r.mfa
  deny when r.action == "write" and not r.mfa
    message "{r.user} writes without MFA"
}
`;
const EXAMPLE_INPUT = '{ "user": "jane", "action": "write", "mfa": false }';

// --- Highlighting: a small TextMate interpreter over the extension's grammar.

let grammar = null;

function compile(rule) {
  for (const key of ['match', 'begin', 'end']) {
    if (rule[key] && !rule[`_${key}`]) rule[`_${key}`] = new RegExp(rule[key], 'dgmu');
  }
  return rule;
}

function expand(patterns, self) {
  const out = [];
  for (const p of patterns || []) {
    if (p.include === '$self') out.push(...expand(self, self));
    else if (p.include) out.push(...expand(grammar.repository[p.include.slice(1)].patterns || [grammar.repository[p.include.slice(1)]], self));
    else out.push(compile(p));
  }
  return out;
}

/** The token class for a TextMate scope name. */
function tokenClass(scope) {
  if (!scope) return null;
  for (const [prefix, cls] of [['comment', 'comment'], ['string', 'string'], ['constant.numeric', 'number'],
    ['constant', 'constant'], ['keyword.operator', 'operator'], ['keyword', 'keyword'], ['storage', 'keyword'],
    ['entity.name.type', 'type'], ['support.type', 'type'], ['entity', 'entity'], ['meta.attribute', 'attribute'],
    ['punctuation.section.interpolation', 'interpolation']]) {
    if (scope.startsWith(prefix)) return cls;
  }
  return null;
}

const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Past this many characters the policy is shown uncoloured: scanning is
 *  quadratic in the worst case, and the page must keep up with typing. */
const HIGHLIGHT_LIMIT = 20000;
/** Deeper nesting of begin/end rules (strings in interpolations in
 *  strings...) is shown uncoloured: the scan recurses once per level. */
const HIGHLIGHT_DEPTH = 32;

/** `text` as HTML with a span per token the grammar names. */
function highlight(text) {
  if (!grammar || text.length > HIGHLIGHT_LIMIT) return escapeHtml(text);
  const top = grammar.patterns;
  const out = [];
  let at = 0;
  const emit = (from, to, scope) => {
    if (to <= from) return;
    const cls = tokenClass(scope);
    const piece = escapeHtml(text.slice(from, to));
    out.push(cls ? `<span class="tok-${cls}">${piece}</span>` : piece);
  };
  const captured = (m, captures, fallback) => {
    let pos = m.index;
    const end = m.index + m[0].length;
    for (let i = 1; i < m.length; i++) {
      const span = m.indices[i];
      const name = captures && captures[i] && captures[i].name;
      if (!span || !name || span[0] < pos) continue;
      emit(pos, span[0], fallback);
      emit(span[0], span[1], name);
      pos = span[1];
    }
    emit(pos, end, (captures && captures[0] && captures[0].name) || fallback);
  };
  // Scans text[from..] with `patterns`, stopping at `end` (a begin rule's end).
  const scan = (patterns, end, scope, depth) => {
    if (depth > HIGHLIGHT_DEPTH) {
      emit(at, text.length, null);
      at = text.length;
      return;
    }
    while (at < text.length) {
      let best = null;
      let bestRule = null;
      if (end) {
        end.lastIndex = at;
        const m = end.exec(text);
        if (m) { best = m; bestRule = 'end'; }
      }
      for (const rule of patterns) {
        const re = rule._match || rule._begin;
        re.lastIndex = at;
        const m = re.exec(text);
        if (m && (!best || m.index < best.index)) { best = m; bestRule = rule; }
      }
      if (!best) { emit(at, text.length, scope); at = text.length; return; }
      emit(at, best.index, scope);
      if (bestRule === 'end') {
        emit(best.index, best.index + best[0].length, scope);
        at = best.index + Math.max(best[0].length, 0);
        return;
      }
      if (bestRule._match) {
        captured(best, bestRule.captures, bestRule.name || scope);
        at = best.index + Math.max(best[0].length, 1);
        if (best[0].length === 0) emit(best.index, at, scope);
      } else {
        captured(best, bestRule.beginCaptures, bestRule.name || scope);
        at = best.index + best[0].length;
        scan(expand(bestRule.patterns, top), bestRule._end, bestRule.name || scope, depth + 1);
      }
    }
  };
  scan(expand(top, top), null, null, 0);
  return out.join('');
}

// --- The page.

let timer = null;

function state() {
  return { policy: $('policy').value, input: $('input').value, target: $('target').value, now: $('now').value };
}

function encode(s) {
  const bytes = new TextEncoder().encode(JSON.stringify(s));
  let binary = '';
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decode(fragment) {
  try {
    const binary = atob(fragment.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function show(diagnostics) {
  const list = $('diagnostics');
  list.replaceChildren(...diagnostics.map((d) => {
    const li = document.createElement('li');
    li.className = d.severity;
    li.dataset.code = d.code;
    li.textContent = `${d.severity}[${d.code}] line ${d.line}:${d.column}: ${d.message}${d.help ? ` (${d.help})` : ''}`;
    return li;
  }));
}

function update() {
  const s = state();
  $('policy-highlight').innerHTML = highlight(s.policy) + '\n';
  $('share').href = '#' + encode(s);
  const files = { 'policy.warden': s.policy };
  let found;
  try {
    found = JSON.parse(diagnose(JSON.stringify(files)));
  } catch (e) {
    found = [];
  }
  show(found);
  const verdict = $('verdict');
  if (found.some((d) => d.severity === 'error')) {
    verdict.textContent = '';
    verdict.className = '';
    $('decision').textContent = 'The policy does not compile: see the diagnostics.';
    document.body.dataset.state = 'diagnostics';
    return;
  }
  try {
    const engine = Engine.compile(JSON.stringify(files), undefined);
    const now = parseTime(s.now);
    if (now === undefined) throw JSON.stringify({ code: null, message: `now: \`${s.now}\` is not an RFC 3339 time` });
    const decision = JSON.parse(engine.decide(s.target, s.input, now, $('explain').checked));
    verdict.textContent = decision.decision;
    verdict.className = decision.decision;
    $('decision').textContent = JSON.stringify(decision, null, 2);
    document.body.dataset.state = 'decided';
  } catch (e) {
    const error = typeof e === 'string' ? JSON.parse(e) : { message: String(e) };
    verdict.textContent = '';
    verdict.className = '';
    $('decision').textContent = `${error.code ? `error[${error.code}]: ` : ''}${error.message}`;
    document.body.dataset.state = 'error';
  }
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(update, 120);
}

async function main() {
  await init();
  grammar = await (await fetch('./warden.tmLanguage.json')).json();
  const shared = location.hash.length > 1 ? decode(location.hash.slice(1)) : null;
  $('policy').value = shared?.policy ?? EXAMPLE_POLICY;
  $('input').value = shared?.input ?? EXAMPLE_INPUT;
  if (shared?.target) $('target').value = shared.target;
  if (shared?.now) $('now').value = shared.now;
  for (const id of ['policy', 'input', 'target', 'now']) $(id).addEventListener('input', later);
  $('explain').addEventListener('change', update);
  $('policy').addEventListener('scroll', () => {
    const pre = document.querySelector('.editor pre');
    pre.scrollTop = $('policy').scrollTop;
  });
  $('share').addEventListener('click', (event) => {
    event.preventDefault();
    history.replaceState(null, '', $('share').href);
    $('status').textContent = 'The address now holds this policy and input.';
  });
  update();
  document.documentElement.dataset.ready = 'true';
}

main().catch((e) => {
  $('decision').textContent = `The playground could not start: ${e}`;
});
