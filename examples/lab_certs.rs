//! Regenerates the lab's certificate authority and server certificates in `config/lab/`.
//! They exist only for `raqib lab` on loopback: a valid certificate for 127.0.0.1 and
//! localhost until 2076, and one that expired in 2024. Run: `cargo run --example lab_certs`.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

fn leaf(
    name: &str,
    from: (i32, u8, u8),
    until: (i32, u8, u8),
    issuer: &Issuer<'_, KeyPair>,
) -> (String, String) {
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, name);
    p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    p.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn main() {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "raqib lab CA (loopback only)");
    ca.not_before = rcgen::date_time_ymd(2024, 1, 1);
    ca.not_after = rcgen::date_time_ymd(2076, 1, 1);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let dir = std::path::Path::new("config/lab");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    let (cert, key) = leaf("raqib lab", (2024, 1, 1), (2076, 1, 1), &issuer);
    std::fs::write(dir.join("server.pem"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let (cert, key) = leaf("raqib lab (expired)", (2023, 1, 1), (2024, 6, 30), &issuer);
    std::fs::write(dir.join("expired.pem"), cert).unwrap();
    std::fs::write(dir.join("expired.key"), key).unwrap();
    println!("wrote config/lab/{{ca.pem,server.pem,server.key,expired.pem,expired.key}}");
}
