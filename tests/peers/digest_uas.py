#!/usr/bin/env python3
"""A SIP registrar and UAS on loopback that demands digest auth and checks the answer with
Python's own hashlib (OpenSSL), independently of raqib's code, for tests/call_digest.rs.

usage: digest_uas.py PASSWORD OFFER   (prints 'ready PORT' once bound on 127.0.0.1)
OFFER: comma-separated algorithms, one challenge each in one 401/407
       (e.g. MD5,SHA-256,SHA-512-256); prefix 'auth-int:' to offer only qop=auth-int.
REGISTER is challenged with 401, INVITE with 407. A request with credentials is checked:
good ones get 200 (REGISTER) or 486 (INVITE, so that no media is needed), bad ones 403.
Each check prints 'verified ALG METHOD' or 'refused ALG METHOD'.
"""
import hashlib
import os
import re
import socket
import sys

password = sys.argv[1]
offer = sys.argv[2]
qop = "auth"
if offer.startswith("auth-int:"):
    qop, offer = "auth-int", offer[len("auth-int:"):]
algorithms = offer.split(",")
HASH = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
REALM = "raqib.lab"

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
print("ready", sock.getsockname()[1], flush=True)
issued = {}  # nonce -> algorithm


def header(msg, name):
    m = re.search(r"^(?:%s):\s*(.*)$" % name, msg, re.M | re.I)
    return m.group(1).strip() if m else ""


def response(req, code, reason, extra=()):
    to = header(req, "To|t")
    if "tag=" not in to:
        to += ";tag=digest1"
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    lines += ["Via: " + header(req, "Via|v"), "From: " + header(req, "From|f"), "To: " + to]
    lines += ["Call-ID: " + header(req, "Call-ID|i"), "CSeq: " + header(req, "CSeq")]
    lines += list(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def params(value):
    return dict(
        (k.lower(), v1 if v1 else v2)
        for k, v1, v2 in re.findall(r'([\w-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', value)
    )


def h(alg, text):
    return hashlib.new(HASH[alg], text.encode()).hexdigest()


def check(method, creds):
    p = params(creds)
    token = p.get("algorithm", "MD5").upper()
    sess = token.endswith("-SESS")
    alg = token[: -len("-SESS")] if sess else token
    if alg not in HASH or issued.get(p.get("nonce")) != token:
        return token, False
    ha1 = h(alg, "%s:%s:%s" % (p.get("username"), REALM, password))
    if sess:
        ha1 = h(alg, "%s:%s:%s" % (ha1, p["nonce"], p.get("cnonce", "")))
    ha2 = h(alg, "%s:%s" % (method, p.get("uri")))
    if p.get("qop") == "auth":
        want = h(alg, ":".join([ha1, p["nonce"], p.get("nc", ""), p.get("cnonce", ""), "auth", ha2]))
    else:
        want = h(alg, "%s:%s:%s" % (ha1, p["nonce"], ha2))
    return token, want == p.get("response")


while True:
    data, peer = sock.recvfrom(65535)
    msg = data.decode("utf-8", "replace")
    method = msg.split(" ", 1)[0]
    if method in ("ACK", "SIP/2.0"):
        continue
    if method == "OPTIONS":
        sock.sendto(response(msg, 200, "OK"), peer)
        continue
    if method not in ("REGISTER", "INVITE"):
        sock.sendto(response(msg, 200, "OK"), peer)
        continue
    creds = header(msg, "Authorization|Proxy-Authorization")
    if not creds:
        name = "WWW-Authenticate" if method == "REGISTER" else "Proxy-Authenticate"
        challenges = []
        for alg in algorithms:
            nonce = os.urandom(12).hex()
            issued[nonce] = alg.upper()
            challenges.append(
                '%s: Digest realm="%s", nonce="%s", opaque="op1", algorithm=%s, qop="%s"'
                % (name, REALM, nonce, alg, qop)
            )
        code, reason = (401, "Unauthorized") if method == "REGISTER" else (407, "Proxy Authentication Required")
        sock.sendto(response(msg, code, reason, challenges), peer)
        continue
    token, ok = check(method, creds)
    print("%s %s %s" % ("verified" if ok else "refused", token, method), flush=True)
    if not ok:
        sock.sendto(response(msg, 403, "Forbidden"), peer)
    elif method == "REGISTER":
        contact = header(msg, "Contact|m")
        sock.sendto(response(msg, 200, "OK", ["Contact: %s;expires=60" % contact]), peer)
    else:
        sock.sendto(response(msg, 486, "Busy Here"), peer)
