//! Any datagram on an RTP port: parsing never panics and the payload lies inside the packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raqib::probe::call::rtp;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = rtp::parse(data) {
        assert!(p.payload.len() <= data.len().saturating_sub(12));
        let mut stats = rtp::RtpStats::new(8000);
        stats.record(&p, 0.0);
        let _ = stats.loss_pct();
    }
});
