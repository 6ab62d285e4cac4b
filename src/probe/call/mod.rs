//! The call probe: a real SIP test call to a centre's number — its timeline, outcome, the
//! audio heard (G.711 decoded, kept as WAV evidence), RTP quality and a guess of what answered.

pub mod audio;
pub mod g711;
pub mod quality;
pub mod rtp;
pub mod sip;
