// Live progress in the book, end to end: `checker serve` on a copy of exercise 01, the
// exercise page in headless Chromium, the Dockerfile replaced by the solution, the re-check
// by the watcher, and the badge turning from "1 of 6" to "6 of 6". Also: the same page
// opened as a plain file shows no badge and logs no error.
//
// Usage: node live.mjs CHECKER BOOK_DIR WORKBOOK_DIR
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [checker, bookDir, workbookDir] = process.argv.slice(2).map((p) => path.resolve(p));
const failures = [];
const fail = (m) => { failures.push(m); console.log(`✘ ${m}`); };

// A workbook of one exercise, in a temporary folder, so the test edits nobody's files.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'workbook-live-'));
fs.cpSync(path.join(workbookDir, 'exercises', '01-static-binary'), path.join(root, 'exercises', '01-static-binary'), { recursive: true });
const port = 20000 + Math.floor(Math.random() * 20000);
const server = spawn(checker, ['--root', root, 'serve', '--book', bookDir, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
server.stdout.on('data', (d) => { log += d; });
server.stderr.on('data', (d) => { log += d; });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
});
const waitFor = async (fn, ms) => { const end = Date.now() + ms; while (Date.now() < end) { if (await fn()) return true; await new Promise((r) => setTimeout(r, 300)); } return false; };

try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const url = `http://127.0.0.1:${port}/exercises/01-static-binary.html`;
  if (!(await waitFor(async () => { try { return (await fetch(url)).ok; } catch { return false; } }, 30000))) throw new Error(`checker serve did not answer:\n${log}`);
  await page.goto(url);
  const badge = page.locator('.workbook-badge');
  if (!(await waitFor(async () => (await badge.count()) && /1 of 6 goals met/.test(await badge.innerText()), 120000))) {
    fail(`the badge never showed the starter's 1 of 6 (it shows: ${(await badge.count()) ? await badge.innerText() : 'nothing'})`);
  } else console.log(`✔ badge before: ${await badge.innerText()}`);
  const exercise = path.join(root, 'exercises', '01-static-binary');
  fs.copyFileSync(path.join(exercise, 'solution', 'Dockerfile'), path.join(exercise, 'Dockerfile'));
  const changedAt = Date.now();
  if (!(await waitFor(async () => /6 of 6 goals met/.test(await badge.innerText()), 120000))) fail(`the badge did not change after the save (it shows: ${await badge.innerText()})`);
  else console.log(`✔ badge after the save: ${await badge.innerText()} (${((Date.now() - changedAt) / 1000).toFixed(1)} s after the save)`);
  if (await badge.getAttribute('data-status') !== 'done') fail('the badge is not marked done');
  // The checker starts containers, and Chromium fails a poll in flight with
  // ERR_NETWORK_CHANGED when Docker adds their network interfaces: the next poll succeeds.
  for (const e of errors.filter((e) => !e.includes('ERR_NETWORK_CHANGED'))) fail(`served page: ${e}`);

  // The same page as a plain file: no badge, no error.
  const plain = await browser.newPage();
  const plainErrors = [];
  plain.on('pageerror', (e) => plainErrors.push(String(e)));
  plain.on('console', (m) => { if (m.type() === 'error') plainErrors.push(m.text()); });
  await plain.goto(`file://${path.join(bookDir, 'exercises', '01-static-binary.html')}`);
  await plain.waitForTimeout(2500);
  if (await plain.locator('.workbook-badge').count()) fail('a plain file shows a badge');
  for (const e of plainErrors) fail(`plain file: ${e}`);
  if (!plainErrors.length) console.log('✔ as a plain file: no badge, no error');
} catch (e) {
  fail(String(e));
} finally {
  await browser.close();
  server.kill('SIGINT');
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(`${failures.length ? 0 : 1} passed, ${failures.length ? 1 : 0} failed`);
process.exit(failures.length ? 1 : 0);
