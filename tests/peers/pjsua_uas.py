#!/usr/bin/env python3
"""A PJSIP (pjsua2) UAS for raqib's tests, scripted per call.

usage: pjsua_uas.py PORT MODE DELAY_MS WAV
  MODE ringing: 180, answer DELAY_MS after the INVITE arrived, play WAV
  MODE early:   183 with SDP and WAV as early media, answer after DELAY_MS
  MODE hangup:  answer at once, play WAV, hang up after DELAY_MS
Prints 'ready PORT', then per answered call 'answered CALL_ID MS' (ms from INVITE to 200 OK
as pjsua saw them: its own wire-side record).
"""
import sys
import time

import pjsua2 as pj

port, mode, delay_ms, wav = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

ep = pj.Endpoint()
ep.libCreate()
cfg = pj.EpConfig()
cfg.uaConfig.threadCnt = 0
cfg.uaConfig.mainThreadOnly = True
cfg.medConfig.clockRate = 8000
cfg.medConfig.sndClockRate = 8000
cfg.medConfig.noVad = True
cfg.logConfig.level = 0
cfg.logConfig.consoleLevel = 0
ep.libInit(cfg)
tcfg = pj.TransportConfig()
tcfg.port = port
tcfg.boundAddress = "127.0.0.1"
tcfg.publicAddress = "127.0.0.1"
ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
ep.audDevManager().setNullDev()
ep.libStart()

calls = []


class Call(pj.Call):
    def __init__(self, acc, call_id):
        pj.Call.__init__(self, acc, call_id)
        self.player = None

    def onCallMediaState(self, prm):
        info = self.getInfo()
        for i, mi in enumerate(info.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                media = self.getAudioMedia(i)
                if self.player is None:
                    self.player = pj.AudioMediaPlayer()
                    self.player.createPlayer(wav, pj.PJMEDIA_FILE_NO_LOOP)
                self.player.startTransmit(media)


class Account(pj.Account):
    def onIncomingCall(self, prm):
        call = Call(self, prm.callId)
        op = pj.CallOpParam()
        op.statusCode = 183 if mode == "early" else 180
        call.answer(op)
        calls.append({"call": call, "t": time.monotonic(), "answered": None, "id": call.getInfo().callIdString})


acc_cfg = pj.AccountConfig()
acc_cfg.idUri = "sip:uas@127.0.0.1:%d" % port
acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
account = Account()
account.create(acc_cfg)
print("ready", port, flush=True)

while True:
    ep.libHandleEvents(1)
    now = time.monotonic()
    for c in calls:
        if c["answered"] is None and (mode == "hangup" or (now - c["t"]) * 1000 >= delay_ms):
            op = pj.CallOpParam()
            op.statusCode = 200
            c["call"].answer(op)
            c["answered"] = now
            print("answered", c["id"], round((now - c["t"]) * 1000, 3), flush=True)
        elif mode == "hangup" and c["answered"] is not None and (now - c["answered"]) * 1000 >= delay_ms:
            c["call"].hangup(pj.CallOpParam())
            c["answered"] = float("inf")
