"""app.py - the app for exercise 12: a tiny HTTP service on Python's standard library.

    GET /         -> 200 {"message": "Hello from a clean image!", "python": "3.11.2"}
    GET /healthz  -> 200 ok
    other paths   -> 404

It listens on :8080 (override with the PORT environment variable) and exits
cleanly on SIGTERM, which is what `docker stop` sends.

It needs nothing but the `python3` package from Debian: no pip, no packages
from PyPI, nothing to compile. So the interpreter has to be installed in the
image that runs it, with apt-get, and that is what this exercise is about.
"""

import json
import os
import platform
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, "text/plain; charset=utf-8", "ok\n")
        elif self.path == "/":
            body = json.dumps(
                {
                    "message": "Hello from a clean image!",
                    "python": platform.python_version(),
                }
            )
            self.reply(200, "application/json", body + "\n")
        else:
            self.reply(404, "text/plain; charset=utf-8", "not found\n")

    def reply(self, status, content_type, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        # One line per request on stderr, which `docker logs` shows.
        sys.stderr.write((format % args) + "\n")


def on_sigterm(signum, frame):
    # As PID 1 in a container, a process gets no default action for SIGTERM:
    # without this handler, `docker stop` would wait 10 s and then kill it.
    raise SystemExit(0)


def main():
    port = int(os.environ.get("PORT", "8080"))
    signal.signal(signal.SIGTERM, on_sigterm)
    server = HTTPServer(("", port), Handler)
    print("listening on :%d as uid %d" % (port, os.getuid()), file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        print("shutting down", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
