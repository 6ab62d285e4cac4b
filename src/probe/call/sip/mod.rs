//! The SIP layer of the call probe: messages, SDP, digest authentication, unguessable
//! identifiers, and the UDP/TCP transport with its transactions (`transport.rs`).

pub mod digest;
pub mod message;
pub mod random;
pub mod sdp;
pub mod transport;
