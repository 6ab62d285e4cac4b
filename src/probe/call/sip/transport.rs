//! SIP transport: one UDP socket shared by every call of a trunk (or one TCP or TLS connection
//! per call), a receive loop that timestamps each message the moment it leaves the socket, and
//! delivery to the call it belongs to by Call-ID. Timestamps taken here, not in the call's
//! task, keep answer times exact however many calls are in flight.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::message::{Message, MAX_MESSAGE};

/// One message received, or one that could not be parsed.
#[derive(Debug)]
pub struct Incoming {
    pub at: Instant,
    pub from: SocketAddr,
    pub raw: Vec<u8>,
    pub parsed: Result<Message, ReceiveError>,
}

/// Why bytes received are no message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Parse(#[from] super::message::ParseError),
    /// A stream's framing that cannot be trusted (the stream is then dropped).
    #[error("absurd Content-Length '{0}'")]
    ContentLength(String),
    #[error("headers exceed {MAX_MESSAGE} bytes")]
    HeadersTooLong,
}

type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Incoming>>>>;

/// Arrival instants of unparseable datagrams without a Call-ID, per sender (the last 64).
type Junk = Arc<Mutex<HashMap<SocketAddr, std::collections::VecDeque<Instant>>>>;

/// The shared UDP side of a trunk (or of the lab's UAS).
///
/// Its receive loop is a dedicated OS thread blocked in `recv_from`: it timestamps each
/// datagram the moment the kernel hands it over, however busy the async workers are (with
/// the loop as a task, 200 calls in flight delayed timestamps by up to 12 ms).
#[derive(Clone)]
pub struct UdpEndpoint {
    socket: Arc<std::net::UdpSocket>,
    local: SocketAddr,
    routes: Routes,
    /// New dialogs (requests whose Call-ID nobody waits for) go here, for a UAS.
    unmatched: Arc<Mutex<Option<mpsc::UnboundedSender<Incoming>>>>,
    junk: Junk,
    _recv: Arc<StopOnDrop>,
}

/// Tells the receive thread to end (it notices within its read timeout).
struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A blocking UDP socket with a large receive buffer: a burst of provisional responses, or a
/// thousand calls' traffic, must not overflow the kernel's default of ~200 KiB and lose a
/// 200 OK. Sends on it do not block in practice (UDP); receives have a timeout so that the
/// receive thread can notice it should stop.
pub fn bind_udp(addr: SocketAddr, recv_buffer: usize) -> io::Result<std::net::UdpSocket> {
    let domain = if addr.is_ipv6() {
        socket2::Domain::IPV6
    } else {
        socket2::Domain::IPV4
    };
    let s = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    let _ = s.set_recv_buffer_size(recv_buffer);
    let _ = s.set_send_buffer_size(recv_buffer);
    s.bind(&addr.into())?;
    s.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
    Ok(s.into())
}

/// Finds a Call-ID in bytes that did not parse, so a malformed reply still reaches its call.
fn sniff_call_id(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(8192)]);
    text.split("\r\n").find_map(|l| {
        let (name, value) = l.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i"))
            .then(|| value.trim().to_string())
    })
}

impl UdpEndpoint {
    pub async fn bind(addr: SocketAddr) -> io::Result<UdpEndpoint> {
        let socket = Arc::new(bind_udp(addr, 4 << 20)?);
        let local = socket.local_addr()?;
        let routes: Routes = Default::default();
        let unmatched: Arc<Mutex<Option<mpsc::UnboundedSender<Incoming>>>> = Default::default();
        let junk: Junk = Default::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let socket = socket.clone();
            let routes = routes.clone();
            let unmatched = unmatched.clone();
            let junk = junk.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("sip-recv-{local}"))
                .spawn(move || receive(&socket, &routes, &unmatched, &junk, &stop))?;
        }
        Ok(UdpEndpoint {
            socket,
            local,
            routes,
            unmatched,
            junk,
            _recv: Arc::new(StopOnDrop(stop)),
        })
    }

    /// Unparseable datagrams without a Call-ID that `peer` sent since `since`.
    pub fn junk_since(&self, peer: SocketAddr, since: Instant) -> usize {
        self.junk
            .lock()
            .ok()
            .and_then(|j| {
                j.get(&peer)
                    .map(|q| q.iter().filter(|t| **t >= since).count())
            })
            .unwrap_or(0)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Messages of this Call-ID are delivered to the returned receiver until `leave`.
    pub fn join(&self, call_id: &str) -> mpsc::UnboundedReceiver<Incoming> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut r) = self.routes.lock() {
            r.insert(call_id.to_string(), tx);
        }
        rx
    }

    pub fn leave(&self, call_id: &str) {
        if let Ok(mut r) = self.routes.lock() {
            r.remove(call_id);
        }
    }

    /// Receives every message of an unknown Call-ID (the lab's UAS takes new calls here).
    pub fn accept_unmatched(&self) -> mpsc::UnboundedReceiver<Incoming> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut u) = self.unmatched.lock() {
            *u = Some(tx);
        }
        rx
    }

    pub async fn send_raw(&self, bytes: &[u8], to: SocketAddr) -> io::Result<Instant> {
        self.socket.send_to(bytes, to)?;
        Ok(Instant::now())
    }
}

/// The receive thread: timestamp, parse, deliver by Call-ID.
fn receive(
    socket: &std::net::UdpSocket,
    routes: &Routes,
    unmatched: &Mutex<Option<mpsc::UnboundedSender<Incoming>>>,
    junk: &Junk,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut buf = vec![0u8; 65_536];
    let stamped = kernel_time::enable(socket);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let received = if stamped {
            kernel_time::recv_from(socket, &mut buf)
        } else {
            socket
                .recv_from(&mut buf)
                .map(|(n, from)| (n, from, Instant::now()))
        };
        let (n, from, at) = match received {
            Ok(x) => x,
            // Timeouts (to check `stop`) and ICMP errors surfacing on Linux: keep going.
            Err(_) => continue,
        };
        let raw = buf[..n].to_vec();
        if raw.iter().all(|&b| b == b'\r' || b == b'\n') {
            continue; // keep-alive
        }
        let parsed = Message::parse(&raw).map_err(ReceiveError::from);
        let call_id = match &parsed {
            Ok(m) => Some(m.call_id().to_string()),
            Err(_) => sniff_call_id(&raw),
        };
        let Some(call_id) = call_id else {
            // Nobody can be told which call this garbage was for: remember who sent it, so
            // that a call to that peer can say so.
            if let Ok(mut j) = junk.lock() {
                let q = j.entry(from).or_default();
                if q.len() == 64 {
                    q.pop_front();
                }
                q.push_back(at);
            }
            continue;
        };
        let incoming = Incoming {
            at,
            from,
            raw,
            parsed,
        };
        let route = routes.lock().ok().and_then(|r| r.get(&call_id).cloned());
        match route {
            Some(tx) => {
                let _ = tx.send(incoming);
            }
            None => {
                let fallback = unmatched.lock().ok().and_then(|u| u.clone());
                if let Some(tx) = fallback {
                    let _ = tx.send(incoming);
                } else if let Ok(m) = &incoming.parsed {
                    // A request for a call we do not know (RFC 3261 §12.2.2).
                    if m.method().is_some_and(|x| x != "ACK") {
                        let r = m.response(481, "Call/Transaction Does Not Exist", None);
                        let _ = socket.send_to(&r.to_bytes(), from);
                    }
                }
            }
        }
    }
}

/// Kernel receive timestamps (SO_TIMESTAMPNS): the instant a datagram reached the socket,
/// whatever this process was doing then. Under load (two cores, hundreds of calls) the thread
/// that reads the socket may wake milliseconds late; the kernel's stamp does not.
#[cfg(target_os = "linux")]
pub(crate) mod kernel_time {
    use std::io;
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    pub fn enable(socket: &impl AsRawFd) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: a valid fd and a c_int option value of the right size.
        let r = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                &on as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        r == 0
    }

    /// `recv_from` that also returns when the kernel received the datagram, as an `Instant`.
    pub fn recv_from(
        socket: &impl AsRawFd,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, Instant)> {
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut control = [0u64; 16]; // 128 bytes, aligned for cmsghdr
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: every pointer in the msghdr points at live buffers of the stated sizes.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = &mut addr as *mut _ as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut at = now;
        // SAFETY: the CMSG macros walk the control buffer recvmsg filled in.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                    let stamped = UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
                    // How long ago the kernel stamped it, taken off the monotonic clock.
                    if let Ok(ago) = wall.duration_since(stamped) {
                        if ago < Duration::from_secs(1) {
                            at = now.checked_sub(ago).unwrap_or(now);
                        }
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let from = match addr.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says this is a sockaddr_in.
                let a = unsafe { *(&addr as *const _ as *const libc::sockaddr_in) };
                SocketAddr::V4(SocketAddrV4::new(
                    u32::from_be(a.sin_addr.s_addr).into(),
                    u16::from_be(a.sin_port),
                ))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says this is a sockaddr_in6.
                let a = unsafe { *(&addr as *const _ as *const libc::sockaddr_in6) };
                SocketAddr::V6(SocketAddrV6::new(
                    a.sin6_addr.s6_addr.into(),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                ))
            }
            _ => return Err(io::Error::other("unknown address family")),
        };
        Ok((n as usize, from, at))
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) mod kernel_time {
    pub fn enable<T>(_: &T) -> bool {
        false
    }
    pub fn recv_from<T>(
        _: &T,
        _: &mut [u8],
    ) -> std::io::Result<(usize, std::net::SocketAddr, std::time::Instant)> {
        unreachable!()
    }
}

/// Where a call's messages go: the shared UDP socket, or the call's own TCP connection.
pub enum Link {
    Udp {
        endpoint: UdpEndpoint,
        peer: SocketAddr,
    },
    Tcp {
        writer: tokio::net::tcp::OwnedWriteHalf,
        local: SocketAddr,
        peer: SocketAddr,
        _reader: AbortOnDropPub,
    },
    /// A TLS connection of the call's own (RFC 3261 §26.2, `SIP/2.0/TLS`).
    Tls {
        writer: tokio::io::WriteHalf<tokio_rustls::client::TlsStream<TcpStream>>,
        local: SocketAddr,
        peer: SocketAddr,
        _reader: AbortOnDropPub,
    },
}

pub struct AbortOnDropPub(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDropPub {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Link {
    pub fn reliable(&self) -> bool {
        matches!(self, Link::Tcp { .. } | Link::Tls { .. })
    }

    /// Whether the link is encrypted (TLS).
    pub fn secure(&self) -> bool {
        matches!(self, Link::Tls { .. })
    }

    pub fn local_addr(&self) -> SocketAddr {
        match self {
            Link::Udp { endpoint, .. } => endpoint.local_addr(),
            Link::Tcp { local, .. } | Link::Tls { local, .. } => *local,
        }
    }

    pub fn peer(&self) -> SocketAddr {
        match self {
            Link::Udp { peer, .. } | Link::Tcp { peer, .. } | Link::Tls { peer, .. } => *peer,
        }
    }

    pub fn transport_name(&self) -> &'static str {
        match self {
            Link::Udp { .. } => "UDP",
            Link::Tcp { .. } => "TCP",
            Link::Tls { .. } => "TLS",
        }
    }

    /// Sends to `to` (UDP) or down the connection (TCP); returns the instant it left.
    pub async fn send(&mut self, bytes: &[u8], to: SocketAddr) -> io::Result<Instant> {
        match self {
            Link::Udp { endpoint, .. } => endpoint.send_raw(bytes, to).await,
            Link::Tcp { writer, .. } => {
                writer.write_all(bytes).await?;
                Ok(Instant::now())
            }
            Link::Tls { writer, .. } => {
                // rustls buffers a record until flushed: the instant is when it left.
                writer.write_all(bytes).await?;
                writer.flush().await?;
                Ok(Instant::now())
            }
        }
    }

    /// Opens a TCP connection to `peer` whose messages are framed and delivered to `tx`.
    pub async fn connect_tcp(
        peer: SocketAddr,
        tx: mpsc::UnboundedSender<Incoming>,
    ) -> io::Result<Link> {
        let stream = TcpStream::connect(peer).await?;
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr()?;
        let (reader, writer) = stream.into_split();
        let task = tokio::spawn(read_frames(reader, peer, tx));
        Ok(Link::Tcp {
            writer,
            local,
            peer,
            _reader: AbortOnDropPub(task),
        })
    }

    /// Opens a TCP connection to `peer` and completes a TLS handshake with it, verifying its
    /// certificate for `server_name` (RFC 5922: the host of the URI, or of the proxy). Nothing
    /// is written before the handshake has succeeded, and a failed one never falls back to
    /// clear text.
    pub async fn connect_tls(
        peer: SocketAddr,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
        within: std::time::Duration,
        tx: mpsc::UnboundedSender<Incoming>,
    ) -> Result<Link, TlsConnectError> {
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .map_err(|e| TlsConnectError::Name(server_name.to_string(), e.to_string()))?;
        let handshake = async {
            let stream = TcpStream::connect(peer)
                .await
                .map_err(TlsConnectError::Connect)?;
            let _ = stream.set_nodelay(true);
            let local = stream.local_addr().map_err(TlsConnectError::Connect)?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, stream)
                .await
                .map_err(|e| TlsConnectError::Handshake(handshake_detail(&e, server_name)))?;
            Ok((stream, local))
        };
        // A peer that accepts and then says nothing must not hold the call for ever.
        let (stream, local) = tokio::time::timeout(within, handshake)
            .await
            .map_err(|_| TlsConnectError::Timeout(within))??;
        let (reader, writer) = tokio::io::split(stream);
        let task = tokio::spawn(read_frames(reader, peer, tx));
        Ok(Link::Tls {
            writer,
            local,
            peer,
            _reader: AbortOnDropPub(task),
        })
    }
}

/// What went wrong in a handshake, for people, with rustls's own words kept.
fn handshake_detail(e: &io::Error, server_name: &str) -> String {
    use rustls::CertificateError as C;
    // rustls puts its own error inside the io::Error.
    let Some(inner) = e.get_ref() else {
        return e.to_string();
    };
    let why = match inner.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            C::UnknownIssuer | C::BadSignature => {
                "the certificate is not trusted (its issuer is neither a system root nor in [trunk] trust_ca_files)"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                return format!("the certificate does not name {server_name}: {inner}")
            }
            C::Expired | C::ExpiredContext { .. } => "the certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "the certificate is not valid yet",
            C::Revoked => "the certificate is revoked",
            _ => "the certificate is not acceptable",
        },
        _ => return inner.to_string(),
    };
    format!("{why}: {inner}")
}

/// Why a TLS link could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TlsConnectError {
    #[error("'{0}' cannot be checked against a certificate: {1}")]
    Name(String, String),
    #[error("{0}")]
    Connect(io::Error),
    #[error("{0}")]
    Handshake(String),
    #[error("no TLS handshake within {} ms", .0.as_millis())]
    Timeout(std::time::Duration),
}

/// Reads a stream (TCP or TLS), frames its messages and delivers them to `tx`; returns when
/// the stream ends or its framing cannot be trusted.
async fn read_frames<R: tokio::io::AsyncRead + Unpin>(
    mut reader: R,
    peer: SocketAddr,
    tx: mpsc::UnboundedSender<Incoming>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16_384];
    loop {
        // Frame: headers up to CRLFCRLF, then Content-Length bytes; both bounded.
        while let Some(len) = frame_len(&buf) {
            match len {
                Ok(total) if buf.len() >= total => {
                    let raw: Vec<u8> = buf.drain(..total).collect();
                    let at = Instant::now();
                    let parsed = Message::parse(&raw).map_err(ReceiveError::from);
                    if tx
                        .send(Incoming {
                            at,
                            from: peer,
                            raw,
                            parsed,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    let at = Instant::now();
                    let raw = buf[..buf.len().min(512)].to_vec();
                    let _ = tx.send(Incoming {
                        at,
                        from: peer,
                        raw,
                        parsed: Err(e),
                    });
                    return; // the stream cannot be re-synchronised
                }
            }
        }
        if buf.len() > MAX_MESSAGE {
            let at = Instant::now();
            let raw = buf[..512].to_vec();
            let _ = tx.send(Incoming {
                at,
                from: peer,
                raw,
                parsed: Err(ReceiveError::HeadersTooLong),
            });
            return;
        }
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let at_start = buf.iter().all(|&b| b == b'\r' || b == b'\n');
                buf.extend_from_slice(&chunk[..n]);
                if at_start {
                    let skip = buf
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    buf.drain(..skip);
                }
            }
        }
    }
}

/// `Some(Ok(total))` when the headers are complete and the message is `total` bytes long,
/// `None` when more bytes are needed, `Some(Err)` when the framing is hopeless.
fn frame_len(buf: &[u8]) -> Option<Result<usize, ReceiveError>> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut len = 0usize;
    for line in head.split("\r\n").skip(1) {
        if let Some((n, v)) = line.split_once(':') {
            let n = n.trim();
            if n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("l") {
                match v.trim().parse::<usize>() {
                    Ok(l) if l <= MAX_MESSAGE => len = l,
                    _ => return Some(Err(ReceiveError::ContentLength(v.trim().to_string()))),
                }
            }
        }
    }
    Some(Ok(end + 4 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(frame_len(b"SIP/2.0 200 OK\r\nl: 3\r\n"), None);
        assert_eq!(
            frame_len(b"SIP/2.0 200 OK\r\nl: 3\r\n\r\nabc"),
            Some(Ok(27))
        );
        assert!(matches!(
            frame_len(b"SIP/2.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n"),
            Some(Err(_))
        ));
        assert_eq!(
            sniff_call_id(b"junk\r\ni: abc \r\n").as_deref(),
            Some("abc")
        );
    }
}
