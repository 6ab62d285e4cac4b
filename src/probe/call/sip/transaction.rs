//! Client transactions (RFC 3261 §17.1): which responses belong to a request, when it is
//! sent again over UDP and when it is given up. They do no I/O: the caller sends, receives,
//! and tells them what arrived or that their deadline passed, so the call (with its trace and
//! in-dialog requests) and REGISTER (with its own receiver) share the same timers.
//!
//! INVITE: timer A retransmits from T1, doubling, until any response; timer B gives up after
//! 64·T1 without one. Non-INVITE (REGISTER, BYE, CANCEL): timer E retransmits from T1,
//! doubling up to T2 (at T2 once a provisional arrived), until a final response; timer F gives
//! up after 64·T1. Over a reliable transport nothing is retransmitted.

use std::time::{Duration, Instant};

use super::message::Message;

/// RFC 3261's T2: the longest interval between retransmissions of a non-INVITE request.
pub const T2: Duration = Duration::from_secs(4);

/// What identifies a client transaction's responses (§17.1.3): the branch of the Via it
/// sent, and its CSeq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub branch: String,
    pub cseq: u32,
    pub method: String,
}

/// Why a response is not this transaction's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Other than one Via: not sent to us (§8.1.3.3).
    Vias(usize),
    /// Another CSeq: another transaction's (a CANCEL's next to its INVITE), or stray.
    CSeq,
    /// Our CSeq under another branch: no answer to this request, whatever it claims.
    Branch(String),
}

impl Key {
    /// The key of a request that carries a Via branch and a CSeq.
    pub fn of(request: &Message) -> Option<Key> {
        let (cseq, method) = request.cseq()?;
        Some(Key {
            branch: request.top_branch()?,
            cseq,
            method: method.to_string(),
        })
    }

    /// `None` when `response` belongs to this transaction, else why not.
    pub fn mismatch(&self, response: &Message) -> Option<Mismatch> {
        let vias = response.header_values("via").len();
        if vias != 1 {
            return Some(Mismatch::Vias(vias));
        }
        if response.cseq() != Some((self.cseq, self.method.as_str())) {
            return Some(Mismatch::CSeq);
        }
        match response.top_branch() {
            Some(b) if b == self.branch => None,
            other => Some(Mismatch::Branch(other.unwrap_or_default())),
        }
    }
}

/// The CANCEL of a pending INVITE (§9.1): the INVITE's Request-URI, top Via (so its branch),
/// From, To, Call-ID, Route and CSeq number.
pub fn cancel_for(invite: &Message) -> Message {
    let mut c = Message::request("CANCEL", invite.uri().unwrap_or_default());
    copy_for_ack_or_cancel(invite, invite, &mut c, "CANCEL");
    c
}

/// The ACK of a non-2xx final response, part of the INVITE's transaction (§17.1.1.3): the
/// INVITE's Request-URI, Via, From, Call-ID, Route and CSeq number, the response's To.
pub fn ack_for_non_2xx(invite: &Message, response: &Message) -> Message {
    let mut ack = Message::request("ACK", invite.uri().unwrap_or_default());
    copy_for_ack_or_cancel(invite, response, &mut ack, "ACK");
    ack
}

fn copy_for_ack_or_cancel(invite: &Message, to_from: &Message, m: &mut Message, method: &str) {
    let cseq = invite.cseq().map(|c| c.0).unwrap_or(1);
    m.push("via", invite.header("via").unwrap_or_default().to_string())
        .push("max-forwards", "70")
        .push(
            "from",
            invite.header("from").unwrap_or_default().to_string(),
        )
        .push("to", to_from.header("to").unwrap_or_default().to_string())
        .push("call-id", invite.call_id().to_string())
        .push("cseq", format!("{cseq} {method}"));
    for r in invite.header_values("route") {
        m.push("route", r);
    }
}

/// What a transaction's passing deadline asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing yet: wait for the next deadline.
    Wait,
    /// Send the request again.
    Retransmit,
    /// Give up: timer B or F fired.
    TimedOut,
}

/// A transaction's timers: the one that retransmits (A or E, none over a reliable transport)
/// and the one that gives up (B or F), until a response stops them.
#[derive(Debug)]
struct Timers {
    /// When the request is sent next, and the interval last waited.
    retransmit: Option<(Instant, Duration)>,
    /// The longest interval (T2 for E; A doubles without bound).
    cap: Option<Duration>,
    give_up: Instant,
    stopped: bool,
}

impl Timers {
    fn new(sent: Instant, t1: Duration, reliable: bool, cap: Option<Duration>) -> Timers {
        Timers {
            retransmit: (!reliable).then_some((sent + t1, t1)),
            cap,
            give_up: sent + t1 * 64,
            stopped: false,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        Some(match self.retransmit {
            Some((next, _)) => next.min(self.give_up),
            None => self.give_up,
        })
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.retransmit = None;
    }

    fn on_timer(&mut self, now: Instant) -> Tick {
        if self.stopped {
            return Tick::Wait;
        }
        if now >= self.give_up {
            return Tick::TimedOut;
        }
        match &mut self.retransmit {
            Some((next, interval)) if now >= *next => {
                *interval *= 2;
                if let Some(cap) = self.cap {
                    *interval = (*interval).min(cap);
                }
                *next += *interval;
                Tick::Retransmit
            }
            _ => Tick::Wait,
        }
    }
}

/// The client side of one INVITE (§17.1.1).
#[derive(Debug)]
pub struct InviteClient(Timers);

impl InviteClient {
    /// The INVITE left at `sent`.
    pub fn new(sent: Instant, t1: Duration, reliable: bool) -> InviteClient {
        InviteClient(Timers::new(sent, t1, reliable, None))
    }

    /// Whether any response of this transaction has arrived (the Proceeding state on).
    pub fn responded(&self) -> bool {
        self.0.stopped
    }

    /// When the transaction needs the caller next; `None` once a response stopped its timers.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline()
    }

    /// Any response of this transaction stops timers A and B.
    pub fn on_response(&mut self) {
        self.0.stop();
    }

    pub fn on_timer(&mut self, now: Instant) -> Tick {
        self.0.on_timer(now)
    }
}

/// The client side of one non-INVITE request (§17.1.2).
#[derive(Debug)]
pub struct NonInviteClient(Timers);

impl NonInviteClient {
    /// The request left at `sent`.
    pub fn new(sent: Instant, t1: Duration, reliable: bool) -> NonInviteClient {
        NonInviteClient(Timers::new(sent, t1, reliable, Some(T2)))
    }

    /// When timer F gives up.
    pub fn timer_f(&self) -> Instant {
        self.0.give_up
    }

    /// When the transaction needs the caller next; `None` once a final response completed it.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline()
    }

    /// A response of this transaction; true when it is final. A provisional one slows
    /// timer E to T2.
    pub fn on_response(&mut self, status: u16) -> bool {
        if status >= 200 {
            self.0.stop();
        } else if let Some((_, interval)) = &mut self.0.retransmit {
            *interval = T2;
        }
        self.0.stopped
    }

    pub fn on_timer(&mut self, now: Instant) -> Tick {
        self.0.on_timer(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Duration = Duration::from_millis(500);

    /// Milliseconds after `t0` of each retransmission, and of giving up.
    fn schedule(t0: Instant, mut timers: Timers) -> (Vec<u128>, u128) {
        let mut times = Vec::new();
        loop {
            let at = timers.deadline().unwrap();
            match timers.on_timer(at) {
                Tick::Retransmit => times.push((at - t0).as_millis()),
                Tick::TimedOut => return (times, (at - t0).as_millis()),
                Tick::Wait => {}
            }
        }
    }

    #[test]
    fn timer_a_doubles_until_timer_b() {
        let t0 = Instant::now();
        let (times, gave_up) = schedule(t0, InviteClient::new(t0, T1, false).0);
        assert_eq!(times, [500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(gave_up, 32_000);
    }

    #[test]
    fn a_provisional_response_stops_timer_a_and_timer_b() {
        let t0 = Instant::now();
        let mut tx = InviteClient::new(t0, T1, false);
        assert_eq!(tx.on_timer(t0 + T1), Tick::Retransmit);
        tx.on_response();
        assert_eq!(tx.deadline(), None);
        assert_eq!(tx.on_timer(t0 + T1 * 100), Tick::Wait);
    }

    #[test]
    fn over_tcp_nothing_is_retransmitted() {
        let t0 = Instant::now();
        let mut tx = InviteClient::new(t0, T1, true);
        assert_eq!(tx.deadline(), Some(t0 + T1 * 64));
        assert_eq!(tx.on_timer(t0 + T1 * 63), Tick::Wait);
        assert_eq!(tx.on_timer(t0 + T1 * 64), Tick::TimedOut);
        let tx = NonInviteClient::new(t0, T1, true);
        assert_eq!(tx.deadline(), Some(t0 + T1 * 64));
    }

    #[test]
    fn timer_e_doubles_up_to_t2_and_timer_f_gives_up() {
        let t0 = Instant::now();
        let (times, gave_up) = schedule(t0, NonInviteClient::new(t0, T1, false).0);
        assert_eq!(
            times,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert_eq!(gave_up, 32_000);
    }

    #[test]
    fn a_provisional_slows_timer_e_and_a_final_completes() {
        let t0 = Instant::now();
        let mut tx = NonInviteClient::new(t0, T1, false);
        assert!(!tx.on_response(100));
        assert_eq!(tx.on_timer(t0 + T1), Tick::Retransmit);
        assert_eq!(tx.deadline(), Some(t0 + T1 + T2));
        assert!(tx.on_response(200));
        assert_eq!(tx.deadline(), None);
        assert_eq!(tx.on_timer(t0 + T1 * 64), Tick::Wait);
    }

    #[test]
    fn responses_are_matched_by_via_cseq_and_branch() {
        let request = |via: &str, cseq: &str| {
            let mut m = Message::request("REGISTER", "sip:h");
            m.push("via", via.to_string())
                .push("cseq", cseq.to_string());
            m
        };
        let key = Key::of(&request(
            "SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKa",
            "2 REGISTER",
        ))
        .unwrap();
        let response = |via: &str, cseq: &str| {
            let raw = format!(
                "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n\
                 Call-ID: c\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
            );
            Message::parse(raw.as_bytes()).unwrap()
        };
        let ours = "SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKa";
        assert_eq!(key.mismatch(&response(ours, "2 REGISTER")), None);
        assert_eq!(
            key.mismatch(&response(
                &format!("{ours}, SIP/2.0/UDP x;branch=z9hG4bKb"),
                "2 REGISTER"
            )),
            Some(Mismatch::Vias(2))
        );
        assert_eq!(
            key.mismatch(&response(ours, "3 REGISTER")),
            Some(Mismatch::CSeq)
        );
        assert_eq!(
            key.mismatch(&response(ours, "2 OPTIONS")),
            Some(Mismatch::CSeq)
        );
        assert_eq!(
            key.mismatch(&response(
                "SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKz",
                "2 REGISTER"
            )),
            Some(Mismatch::Branch("z9hG4bKz".into()))
        );
    }
}
