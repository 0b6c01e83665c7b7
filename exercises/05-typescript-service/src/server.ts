// server.ts - the app for exercise 05: a small HTTP service in TypeScript.
//
//   GET /healthz       -> 200 ok
//   GET /hello/:name   -> 200 Hello, <name>        (?excited for Hello, <name>!)
//   GET /              -> 200 {"service":"greeter-ts","routes":[...]}
//
// Routing is done by tiny-router, the one production dependency (vendored in
// vendor/tiny-router). tsc compiles this file to dist/server.js; at run time
// only node, dist/ and node_modules/tiny-router are needed.
//
// It listens on :8080 (override with PORT) and shuts down cleanly on SIGTERM,
// which is what `docker stop` sends.
import { createServer, ServerResponse } from "http";
import { Router } from "tiny-router";
import { greet } from "./greet";

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(body + "\n");
}

const router: Router = new Router()
  .get("/healthz", (_req, res) => text(res, 200, "ok"))
  .get("/hello/:name", (req, res, params) => {
    const excited = new URL(req.url ?? "/", "http://localhost").searchParams.has("excited");
    text(res, 200, greet(params.name, excited ? "excited" : "plain"));
  })
  .get("/", (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        service: "greeter-ts",
        routes: router.routes.map((r) => `${r.method} ${r.pattern}`),
      }) + "\n",
    );
  });

const port = Number(process.env.PORT ?? 8080);
const server = createServer(router.listener());

server.listen(port, () => {
  console.log(`listening on :${port}`);
});

// As PID 1 in a container, node gets no default SIGTERM handling: without
// this, `docker stop` would wait 10 seconds and then kill it.
process.on("SIGTERM", () => {
  console.log("shutting down");
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(1), 5000).unref();
});
