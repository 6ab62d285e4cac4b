"""A real SMTP server (aiosmtpd) on loopback for the alert tests.

Each accepted message is appended to OUT as one JSON line: envelope, the login used, the raw
Subject header, and the decoded subject and text body (as a mail client would show them).
Usage: smtp_sink.py PORT OUT [--cert C --key K] [--auth USER:PASSWORD]
With a certificate, STARTTLS is offered and required; with --auth, AUTH is required.
Prints "smtp ready: PORT" once listening.
"""
import argparse
import email
import email.header
import email.policy
import json
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("out")
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--auth")
args = p.parse_args()
lock = threading.Lock()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        raw_msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        rec = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "tls": session.ssl is not None,
            "subject_raw": raw_msg["Subject"],
            "subject": str(msg["Subject"]),
            "to": str(msg["To"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        with lock, open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = args.auth.split(":", 1)
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok, auth_data=auth_data)


kw = {}
if args.cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    kw.update(tls_context=ctx, require_starttls=True)
if args.auth:
    kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.cert))
controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kw)
controller.start()
print(f"smtp ready: {args.port}", flush=True)
threading.Event().wait()
