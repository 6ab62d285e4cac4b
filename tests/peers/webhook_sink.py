"""A webhook receiver on loopback for the alert tests: each POST with a JSON body is appended
to OUT as {"path": ..., "host": ..., "body": ...}. Paths listed with --fail PATH:N answer 500
to their first N requests. --redirect STATUS PATH LOCATION answers PATH with that redirect
(the request is recorded with "redirected": STATUS). --endless PATH answers 200 with a body
that never ends (at most 256 MiB), and records {"path", "endless_sent": bytes} once the
client has gone. A request in absolute form (POST http://host/path, as sent to a proxy) is
recorded with that URL as its path and answered here: the sink doubles as an HTTP proxy that
proves a client used it. Prints "webhook ready: PORT" once listening.
Usage: webhook_sink.py OUT [--fail /flaky:2] [--redirect 307 /from /to] [--endless /big]
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--fail", action="append", default=[])
p.add_argument("--redirect", action="append", nargs=3, default=[])
p.add_argument("--endless", action="append", default=[])
args = p.parse_args()
fails = {f.rsplit(":", 1)[0]: int(f.rsplit(":", 1)[1]) for f in args.fail}
redirects = {path: (int(status), location) for status, path, location in args.redirect}
lock = threading.Lock()
ENDLESS_CAP = 256 * 1024 * 1024


def record(rec):
    with lock, open(args.out, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        rec = {"path": self.path, "host": self.headers.get("Host"),
               "content_type": self.headers.get("Content-Type"), "body": json.loads(body)}
        if self.path in redirects:
            status, location = redirects[self.path]
            record({**rec, "redirected": status})
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with lock:
            failing = fails.get(self.path, 0) > 0
            if failing:
                fails[self.path] -= 1
        if not failing:
            record(rec)
        if self.path in args.endless:
            self.endless()
            return
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self):
        # HTTP/1.0 without Content-Length: the body ends only when the connection does.
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        block, sent = b"x" * 65536, 0
        try:
            while sent < ENDLESS_CAP:
                self.wfile.write(block)
                sent += len(block)
        except OSError:
            pass
        record({"path": self.path, "endless_sent": sent})

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"webhook ready: {server.server_address[1]}", flush=True)
server.serve_forever()
