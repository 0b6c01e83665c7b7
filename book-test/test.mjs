// Loads every page of the built book (../book) in headless Chromium, served on loopback:
// every mermaid block must have become an SVG without a syntax error, no JavaScript error may
// be logged, the search index must load and find something, every internal link must
// resolve (file and #fragment), and a quiz must answer. Keeps two screenshots and prints the
// figures the closing note asks for (page weight, time until diagrams are rendered).
//
// Usage: node test.mjs [BOOK_DIR] [OUT_DIR]   (defaults: ../book, ../target/book-test)
// Chromium: $CHROMIUM or /usr/bin/chromium (Debian's package).

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bookDir = path.resolve(process.argv[2] ?? path.join(here, '..', 'book'));
const outDir = path.resolve(process.argv[3] ?? path.join(here, '..', 'target', 'book-test'));
fs.mkdirSync(outDir, { recursive: true });

const failures = [];
const fail = (msg) => { failures.push(msg); console.log(`✘ ${msg}`); };

// A static file server on loopback, so the pages load as a reader's browser would load them.
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = path.join(bookDir, decodeURIComponent(url.pathname));
  if (!file.startsWith(bookDir)) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(data);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const pages = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) { if (!['fonts', 'css', 'FontAwesome'].includes(entry.name)) walk(p); }
    else if (entry.name.endsWith('.html') && !['print.html', 'toc.html', '404.html'].includes(entry.name)) pages.push(path.relative(bookDir, p));
  }
})(bookDir);
pages.sort();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
    '--disable-component-update', '--disable-sync', '--disable-quic'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

const idsOf = new Map();
function idsIn(rel) {
  if (!idsOf.has(rel)) {
    const html = fs.readFileSync(path.join(bookDir, rel), 'utf8');
    idsOf.set(rel, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
  }
  return idsOf.get(rel);
}

const figures = [];
let diagrams = 0;
// Docker starting or stopping a container adds or removes a network interface, and Chromium
// then fails requests in flight with ERR_NETWORK_CHANGED. That is the machine, not the book:
// such a load is tried again (three times at most); any other error counts.
const networkChanged = (errors) => errors.some((e) => e.includes('ERR_NETWORK_CHANGED') || e.includes('net::ERR_NETWORK'));
for (const rel of pages) {
  for (let attempt = 1; ; attempt++) {
    const outcome = await checkPage(rel);
    if (!networkChanged(outcome.errors) || attempt === 3) { report(rel, outcome); break; }
    console.log(`  ${rel}: the network changed during the load; loading it again`);
  }
}

function report(rel, { errors, problems, figure }) {
  for (const p of problems) fail(`${rel}: ${p}`);
  for (const e of errors) fail(`${rel}: ${e}`);
  figures.push(figure);
  diagrams += figure.diagrams;
}

async function checkPage(rel) {
  const problems = [];
  const page = await context.newPage();
  const errors = [];
  let bytes = 0;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('response', async (r) => { try { bytes += (await r.body()).length; } catch { /* redirects */ } });
  const started = Date.now();
  await page.goto(base + rel, { waitUntil: 'load' });
  const count = await page.locator('pre.mermaid').count();
  let renderedMs = null;
  if (count > 0) {
    try {
      await page.waitForFunction(() => [...document.querySelectorAll('pre.mermaid')].every((p) => p.querySelector('svg')), null, { timeout: 30000 });
      renderedMs = Date.now() - started;
    } catch { problems.push('not every mermaid block became an SVG within 30 s'); }
    const broken = await page.locator('pre.mermaid svg[aria-roledescription="error"], pre.mermaid:has-text("Syntax error")').count();
    if (broken) problems.push(`${broken} mermaid diagram(s) have a syntax error`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('pre.mermaid svg')]
      .filter((s) => !s.querySelector('title') || !s.querySelector('desc')).length);
    if (unlabelled) problems.push(`${unlabelled} diagram(s) without accTitle/accDescr`);
  }
  // Links inside the book: the file must exist, and so must the #fragment it points at.
  const hrefs = await page.evaluate(() => [...document.querySelectorAll('main a[href]')].map((a) => a.getAttribute('href')));
  for (const href of hrefs) {
    if (/^[a-z]+:/i.test(href) || href.startsWith('//')) continue;
    const target = new URL(href, base + rel);
    const file = decodeURIComponent(target.pathname).slice(1) || 'index.html';
    if (!fs.existsSync(path.join(bookDir, file))) { problems.push(`link ${href} → ${file} does not exist`); continue; }
    const frag = decodeURIComponent(target.hash.slice(1));
    if (frag && file.endsWith('.html') && !idsIn(file).has(frag)) problems.push(`link ${href}: no #${frag} in ${file}`);
  }
  await page.waitForTimeout(200);
  await page.close();
  return { errors, problems, figure: { page: rel, diagrams: count, renderedMs, bytes } };
}

// Search: the index must load and find a word every chapter uses.
{
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}index.html?search=stage`, { waitUntil: 'load' });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#mdbook-searchresults li, #searchresults li').length > 0, null, { timeout: 15000 });
    const n = await page.locator('#mdbook-searchresults li, #searchresults li').count();
    console.log(`✔ search for "stage" finds ${n} results`);
  } catch { fail('search: the index did not load or found nothing for "stage"'); }
  for (const e of errors) fail(`search: ${e}`);
  await page.close();
}

// A quiz answers and reveals its explanation.
{
  const withQuiz = pages.find((p) => fs.readFileSync(path.join(bookDir, p), 'utf8').includes('class="quiz"'));
  if (!withQuiz) fail('no page has a predict-then-check question');
  else {
    const page = await context.newPage();
    await page.goto(base + withQuiz, { waitUntil: 'load' });
    const quiz = page.locator('.quiz').first();
    const hiddenBefore = await quiz.locator('.quiz-explain').isHidden();
    await quiz.locator('.quiz-option[data-correct]').click();
    const shown = await quiz.locator('.quiz-explain').isVisible();
    const text = await quiz.locator('.quiz-explain').innerText();
    if (!hiddenBefore || !shown || !text.startsWith('Right.')) fail(`${withQuiz}: the quiz did not answer (hidden before: ${hiddenBefore}, shown after: ${shown})`);
    else console.log(`✔ quiz on ${withQuiz} answers`);
    await page.close();
  }
}

// Screenshots to look at: the most diagram-heavy page and an exercise page.
const heavy = [...figures].sort((a, b) => b.diagrams - a.diagrams)[0];
const exercise = pages.find((p) => p.startsWith('exercises/'));
for (const [name, rel] of [['diagrams', heavy?.page], ['exercise', exercise]]) {
  if (!rel) continue;
  const page = await context.newPage();
  await page.goto(base + rel, { waitUntil: 'load' });
  await page.waitForFunction(() => [...document.querySelectorAll('pre.mermaid')].every((p) => p.querySelector('svg')), null, { timeout: 30000 }).catch(() => {});
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot of ${rel}: ${file}`);
  await page.close();
}

await browser.close();
server.close();

const rendered = figures.filter((f) => f.renderedMs !== null);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; };
const summary = {
  pages: pages.length,
  diagrams,
  medianPageBytes: median(figures.map((f) => f.bytes)),
  heaviest: heavy,
  medianMsUntilDiagramsRendered: median(rendered.map((f) => f.renderedMs)),
  slowestDiagramPage: rendered.sort((a, b) => b.renderedMs - a.renderedMs)[0] ?? null,
};
fs.writeFileSync(path.join(outDir, 'figures.json'), JSON.stringify({ summary, figures }, null, 2));
console.log(JSON.stringify(summary, null, 2));
console.log(`${pages.length - new Set(failures.map((f) => f.split(':')[0])).size} passed, ${new Set(failures.map((f) => f.split(':')[0])).size} failed`);
process.exit(failures.length ? 1 : 0);
