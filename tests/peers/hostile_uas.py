#!/usr/bin/env python3
"""A hostile SIP UAS on loopback for raqib's tests: answers each INVITE in one broken way.

usage: hostile_uas.py MODE   (prints 'ready PORT' once bound on 127.0.0.1)
modes: garbage, weird_codes, no_to_tag, huge_header, absurd_length, flood_180,
       retransmit_200, bye_midcall, two_via_200, wrong_branch_200, unusable, silent,
       bye_cause (answers, then hangs up with a BYE whose Reason headers hold hostile values
       beside one good Q.850 cause 16)
"""
import re
import socket
import sys
import time

mode = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
print("ready", sock.getsockname()[1], flush=True)


def header(msg, name):
    m = re.search(r"^(?:%s):\s*(.*)$" % name, msg, re.M | re.I)
    return m.group(1).strip() if m else ""


def response(inv, code, reason, to_tag=True, extra="", body=""):
    to = header(inv, "To|t")
    if to_tag and "tag=" not in to:
        to += ";tag=hostile1"
    lines = [
        "SIP/2.0 %d %s" % (code, reason),
        "Via: " + header(inv, "Via|v"),
        "From: " + header(inv, "From|f"),
        "To: " + to,
        "Call-ID: " + header(inv, "Call-ID|i"),
        "CSeq: " + header(inv, "CSeq"),
    ]
    if extra:
        lines.append(extra)
    if code == 200:
        lines.append("Contact: <sip:hostile@127.0.0.1:%d>" % sock.getsockname()[1])
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"

while True:
    data, peer = sock.recvfrom(65535)
    msg = data.decode("utf-8", "replace")
    if not msg.startswith("INVITE"):
        if msg.startswith("BYE"):
            sock.sendto(response(msg, 200, "OK"), peer)
        continue
    if mode == "garbage":
        for _ in range(3):
            sock.sendto(b"\x00\xffthis is not SIP\r\n\r\n" + bytes(range(256)), peer)
    elif mode == "weird_codes":
        sock.sendto(response(msg, 199, "Weird"), peer)
        time.sleep(0.05)
        sock.sendto(response(msg, 699, "Odd"), peer)
    elif mode == "no_to_tag":
        sock.sendto(response(msg, 200, "OK", to_tag=False, body=SDP, extra="Content-Type: application/sdp"), peer)
    elif mode == "huge_header":
        sock.sendto(response(msg, 180, "Ringing", extra="X-Huge: " + "a" * 60000), peer)
        time.sleep(0.05)
        sock.sendto(response(msg, 486, "Busy Here"), peer)
    elif mode == "absurd_length":
        bad = response(msg, 200, "OK").replace(b"Content-Length: 0", b"Content-Length: 99999999999999999999")
        sock.sendto(bad, peer)
        time.sleep(0.05)
        sock.sendto(response(msg, 503, "Service Unavailable"), peer)
    elif mode == "flood_180":
        for _ in range(500):
            sock.sendto(response(msg, 180, "Ringing"), peer)
        sock.sendto(response(msg, 200, "OK", body=SDP, extra="Content-Type: application/sdp"), peer)
    elif mode in ("two_via_200", "wrong_branch_200"):
        # A 200 that is no answer to this INVITE (RFC 3261 §8.1.3.3, §17.1.3), then a
        # genuine final response: the call must end on the 486, never on the 200.
        via = header(msg, "Via|v")
        if mode == "two_via_200":
            via += ", SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKextra"
        else:
            via = re.sub(r"branch=[^;,\s]+", "branch=z9hG4bKnotyours", via)
        ok = response(msg, 200, "OK", body=SDP, extra="Content-Type: application/sdp")
        ok = ok.replace(("Via: " + header(msg, "Via|v")).encode(), ("Via: " + via).encode(), 1)
        sock.sendto(ok, peer)
        time.sleep(0.05)
        sock.sendto(response(msg, 486, "Busy Here"), peer)
    elif mode == "unusable":
        # Only datagrams the call cannot use, a burst for every INVITE (retransmissions
        # too), for as long as the caller keeps trying: a response without a Via, one for
        # another Call-ID, and bytes that do not parse.
        no_via = re.sub(rb"Via: [^\r]*\r\n", b"", response(msg, 180, "Ringing"), count=1)
        other = response(msg, 180, "Ringing").replace(
            ("Call-ID: " + header(msg, "Call-ID|i")).encode(), b"Call-ID: not-yours@hostile", 1)
        for _ in range(20):
            for d in (no_via, other, b"\x00\xffnot SIP at all\r\n\r\n" + bytes(range(256))):
                sock.sendto(d, peer)
    elif mode == "silent":
        pass
    elif mode == "bye_cause":
        sock.sendto(response(msg, 200, "OK", body=SDP, extra="Content-Type: application/sdp"), peer)
        sock.settimeout(2)
        try:
            while not sock.recvfrom(65535)[0].startswith(b"ACK"):
                pass
        except socket.timeout:
            pass
        sock.settimeout(None)
        contact = re.search(r"<([^>]+)>", header(msg, "Contact|m")).group(1)
        bye = "\r\n".join([
            "BYE %s SIP/2.0" % contact,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKbyecause" % sock.getsockname()[1],
            "Max-Forwards: 70",
            "From: %s;tag=hostile1" % header(msg, "To|t"),
            "To: " + header(msg, "From|f"),
            "Call-ID: " + header(msg, "Call-ID|i"),
            "CSeq: 1 BYE",
            "Reason: Q.850;cause=99999999999999999999;text=\"\x01" + "x" * 3000 + "\"",
            "Reason: SIP;cause=200, Q.850, Q.850;cause=0, Q.850;cause=-3",
            "Reason: Q.850 ; cause=16 ; text=\"Normal call clearing\"",
            "Content-Length: 0",
        ]) + "\r\n\r\n"
        sock.sendto(bye.encode(), peer)
    elif mode == "retransmit_200":
        ok = response(msg, 200, "OK", body=SDP, extra="Content-Type: application/sdp")
        for _ in range(3):
            sock.sendto(ok, peer)
            time.sleep(0.1)
