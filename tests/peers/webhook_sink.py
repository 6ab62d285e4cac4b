"""A webhook receiver on loopback for the alert tests: each POST with a JSON body is appended
to OUT as {"path": ..., "body": ...}. Paths listed with --fail PATH:N answer 500 to their
first N requests. Prints "webhook ready: PORT" once listening.
Usage: webhook_sink.py OUT [--fail /flaky:2]
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--fail", action="append", default=[])
args = p.parse_args()
fails = {f.rsplit(":", 1)[0]: int(f.rsplit(":", 1)[1]) for f in args.fail}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            failing = fails.get(self.path, 0) > 0
            if failing:
                fails[self.path] -= 1
            else:
                with open(args.out, "a", encoding="utf-8") as f:
                    rec = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                           "body": json.loads(body)}
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"webhook ready: {server.server_address[1]}", flush=True)
server.serve_forever()
