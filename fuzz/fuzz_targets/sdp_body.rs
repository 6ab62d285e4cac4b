//! Any SDP body in a 183 or 200 OK: parsing never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raqib::probe::call::sip::sdp;

fuzz_target!(|data: &[u8]| {
    let _ = sdp::parse(data);
});
