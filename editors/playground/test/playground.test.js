'use strict';
// The playground as a user meets it, in headless Chromium (Debian's
// `chromium`, driven by playwright-core): type a policy with a typo, see
// the diagnostic, fix it, see the decision; share it by the link. Needs
// `sh build.sh` first (dist/); CHROMIUM names the browser (default
// /usr/bin/chromium).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const dist = path.join(__dirname, '..', 'dist');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm' };

/** dist/ over HTTP on a free port (browsers load WebAssembly only from a server). */
function serve() {
  const requested = [];
  const server = http.createServer((req, res) => {
    requested.push(req.url);
    const file = path.join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, requested })));
}

const TYPO = `package demo

type Request = { user: string, action: "read" | "write" }

target request: Request default allow

rule no_writes on request as r {
  deny when r.acton == "write"
    message "{r.user} may not write"
}
`;

test('type a typo, see its diagnostic, fix it, see the decision, share it', async () => {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), 'run sh build.sh first');
  const { server, requested } = await serve();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage();
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
    await page.goto(`${base}/index.html`);
    await page.waitForSelector('html[data-ready="true"]');
    // The example decides at once, its keywords coloured by the grammar.
    assert.strictEqual(await page.textContent('#verdict'), 'deny');
    assert.ok(await page.locator('#policy-highlight .tok-keyword').count() > 5);

    // Type a policy with a typo: `acton` for `action`.
    await page.fill('#policy', '');
    await page.locator('#policy').pressSequentially(TYPO, { delay: 0 });
    await page.fill('#input', '{ "user": "sam", "action": "write" }');
    const diagnostic = page.locator('#diagnostics li[data-code="E0102"]');
    await diagnostic.waitFor();
    assert.match(await diagnostic.textContent(), /line 8:.*acton/);
    assert.strictEqual(await page.getAttribute('body', 'data-state'), 'diagnostics');

    // Fix it: the diagnostic goes, the decision comes.
    await page.fill('#policy', TYPO.replace('r.acton', 'r.action'));
    await page.waitForSelector('body[data-state="decided"]');
    assert.strictEqual(await page.locator('#diagnostics li').count(), 0);
    assert.strictEqual(await page.textContent('#verdict'), 'deny');
    const decision = JSON.parse(await page.textContent('#decision'));
    assert.strictEqual(decision.findings[0].message, 'sam may not write');
    assert.ok(decision.findings[0].trace, 'explained');

    // Share: the link holds the policy and the input; opened, it shows them.
    await page.click('#share');
    const link = page.url();
    assert.ok(link.includes('#') && link.length > base.length + 40, link);
    const again = await browser.newPage();
    await again.goto(link);
    await again.waitForSelector('body[data-state="decided"]');
    assert.strictEqual(await again.inputValue('#policy'), TYPO.replace('r.acton', 'r.action'));
    assert.strictEqual(await again.textContent('#verdict'), 'deny');

    // A share link built to stall the page (deep nesting, a huge policy)
    // still opens, and decides.
    for (const policy of ['"{'.repeat(5000), 'package p\n// ' + '2026-01-01T'.repeat(12000)]) {
      const hostile = await browser.newPage();
      const fragment = Buffer.from(JSON.stringify({ policy, input: '{}' })).toString('base64url');
      await hostile.goto(`${base}/index.html#${fragment}`);
      await hostile.waitForSelector('html[data-ready="true"]', { timeout: 10000 });
      await hostile.close();
    }

    // Nothing left the page's own server, and the fragment never reached it.
    assert.deepStrictEqual(outside, []);
    assert.ok(requested.every((url) => !url.includes('#')), requested.join(' '));
  } finally {
    await browser.close();
    server.close();
  }
});
