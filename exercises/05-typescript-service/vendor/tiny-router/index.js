// tiny-router: routes node:http requests by method and path, with :params.
//
//     const { Router } = require('tiny-router');
//     const router = new Router()
//       .get('/hello/:name', (req, res, params) => res.end('Hello, ' + params.name));
//     require('http').createServer(router.listener()).listen(8080);
//
// Plain CommonJS with no dependencies. It is vendored into the exercise (see
// package.json, "file:vendor/tiny-router") so that installing it needs no
// registry. Its TypeScript types are a separate, dev-only package:
// @types/tiny-router, in vendor/types-tiny-router.
'use strict';

// '/hello/:name' -> /^\/hello\/([^/]+)\/?$/ and the parameter names ['name']
function compile(pattern) {
  const names = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp('^' + source + '/?$'), names };
}

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

class Router {
  constructor() {
    this.routes = [];
  }

  add(method, pattern, handler) {
    this.routes.push({ method, pattern, handler, ...compile(pattern) });
    return this;
  }

  get(pattern, handler) {
    return this.add('GET', pattern, handler);
  }

  // A (req, res) listener for http.createServer: 404 for an unknown path,
  // 405 for a known path with another method, 400 for a malformed %-escape.
  listener() {
    return (req, res) => {
      const path = new URL(req.url || '/', 'http://localhost').pathname;
      let pathKnown = false;
      for (const route of this.routes) {
        const m = route.regex.exec(path);
        if (!m) continue;
        pathKnown = true;
        if (route.method !== req.method) continue;
        const params = {};
        try {
          route.names.forEach((name, i) => {
            params[name] = decodeURIComponent(m[i + 1]);
          });
        } catch (e) {
          return send(res, 400, 'bad request');
        }
        return route.handler(req, res, params);
      }
      send(res, pathKnown ? 405 : 404, pathKnown ? 'method not allowed' : 'not found');
    };
  }
}

module.exports = { Router };
