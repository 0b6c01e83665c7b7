#!/usr/bin/env node
/*
 * build.js - the build step of exercise 04. Plain Node.js, no npm packages.
 *
 *     $ node build.js            # writes dist/
 *     $ node build.js /srv/www   # writes /srv/www/
 *
 * It reads site/ and writes a ready-to-serve static site:
 *
 *   - site/styles/*.css   concatenated in name order and minified into
 *                         assets/site.<hash>.css
 *   - site/scripts/*.js   concatenated and minified into assets/site.<hash>.js
 *   - site/pages/*.html   each page fragment wrapped in site/layout.html,
 *                         with the navigation and the hashed asset names
 *                         filled in
 *
 * <hash> is the start of the SHA-256 of the file's contents, so a browser can
 * cache an asset forever: when the contents change, so does the name.
 *
 * Node.js is needed to run this script, not to serve what it writes.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const SRC = path.join(__dirname, 'site');
const OUT = path.resolve(process.argv[2] || path.join(__dirname, 'dist'));

function read(...parts) {
  return fs.readFileSync(path.join(SRC, ...parts), 'utf8');
}

// The files of a folder of site/ with the given extension, in name order.
function sources(dir, ext) {
  return fs
    .readdirSync(path.join(SRC, dir))
    .filter((name) => name.endsWith(ext))
    .sort()
    .map((name) => read(dir, name));
}

// Good enough for our own, simple stylesheets: drop comments, collapse
// whitespace, and remove the spaces around punctuation.
function minifyCss(css) {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/([{;])\s*([a-z-]+)\s*:\s*/g, '$1$2:')
    .replace(/;}/g, '}')
    .trim();
}

// Good enough for our own, simple scripts: drop whole-line comments,
// indentation and empty lines. (A real project would use a real minifier.)
function minifyJs(js) {
  return js
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('//'))
    .join('\n');
}

function hashed(name, ext, contents) {
  const hash = crypto.createHash('sha256').update(contents).digest('hex').slice(0, 8);
  return `${name}.${hash}${ext}`;
}

function write(relative, contents) {
  const file = path.join(OUT, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, contents);
  console.log(`  ${relative.padEnd(28)} ${String(Buffer.byteLength(contents)).padStart(6)} bytes`);
}

function main() {
  const site = JSON.parse(read('site.json'));
  const layout = read('layout.html');

  fs.rmSync(OUT, { recursive: true, force: true });
  console.log(`building ${site.title} into ${OUT}`);

  const styles = sources('styles', '.css');
  const css = minifyCss(styles.join('\n')) + '\n';
  const cssName = hashed('site', '.css', css);
  write(`assets/${cssName}`, css);

  const scripts = sources('scripts', '.js');
  const js = minifyJs(scripts.join('\n')) + '\n';
  const jsName = hashed('site', '.js', js);
  write(`assets/${jsName}`, js);

  // index.html is served as /, every other page without its .html.
  const href = (page) => (page.file === 'index.html' ? '/' : '/' + page.file.replace(/\.html$/, ''));
  const nav = site.pages
    .map((page) => `      <a href="${href(page)}">${page.title}</a>`)
    .join('\n');
  const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const built =
    `Built by build.js from ${count(site.pages.length, 'page')}, ` +
    `${count(styles.length, 'stylesheet')} and ${count(scripts.length, 'script')}.`;

  for (const page of site.pages) {
    const content = read('pages', page.file)
      .trimEnd()
      .split('\n')
      .map((line) => (line ? '    ' + line : line))
      .join('\n');
    const values = {
      site: site.title,
      title: page.title,
      nav,
      content,
      css: `/assets/${cssName}`,
      js: `/assets/${jsName}`,
      built,
    };
    const html = layout.replace(/\{\{(\w+)\}\}/g, (whole, key) => {
      if (!(key in values)) {
        throw new Error(`layout.html: unknown placeholder ${whole}`);
      }
      return values[key];
    });
    write(page.file, html);
  }

  console.log(`done: ${count(site.pages.length, 'page')} and 2 assets`);
}

main();
