//! raqib's SIP stack, in layers: messages and SDP (`message.rs`, `sdp.rs`), the UDP/TCP
//! transport with kernel receive timestamps (`transport.rs`), client transactions and their
//! timers (`transaction.rs`), and the dialog an answer creates (`dialog.rs`); besides them,
//! digest authentication and unguessable identifiers. The call (`../uac.rs`) and REGISTER
//! (`../register.rs`) sit on top.

pub mod dialog;
pub mod digest;
pub mod message;
pub mod random;
pub mod reason;
pub mod sdp;
pub mod transaction;
pub mod transport;
