//! A bridge to a host TAP device (Linux): the simulated MAC's frames go to the host's network
//! stack and frames the host sends to the TAP come back to the MAC.
//!
//! The TAP is a real-time peer. Frames it delivers are stamped with the virtual time of the
//! poll that read them (plus their time on a 100 Mbit/s wire, one after another, so a burst
//! from the host reaches the MAC as from a real PHY), and the link asks to be polled every
//! [`TapLink::poll_interval`] of virtual time; the caller must pace virtual time to the wall clock while a TAP is attached
//! (`ft900-sim run --realtime`, or [`crate::pace::Pacer`]), or the guest's TCP and ARP timers
//! run out long before the host can answer.
//!
//! The device is opened, never created: make a persistent TAP owned by the user once
//! (`sudo ip tuntap add mode tap user $USER name tap0`, then give it an address and bring it up)
//! and the simulator needs no privilege to use it. Opening a missing name fails with
//! [`TapError::NoSuchDevice`] even as root, where the kernel would otherwise create a new,
//! unconfigured TAP.
//!
//! The file descriptor is non-blocking and polled (no reader thread, no async runtime). It
//! stays bound to the network namespace of the thread that opened it, which is how the tests
//! use a TAP inside a namespace from a process that lives outside it.

use std::ffi::CString;
use std::io::{self, ErrorKind};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tun_tap::{Iface, Mode};

use crate::link::{wire_time_100m, Link, Nanos};

/// Longest interface name Linux accepts (IFNAMSIZ - 1).
const MAX_NAME: usize = 15;

/// Largest frame read from the TAP: a jumbo-MTU TAP must not truncate what it hands over (the
/// MAC model decides what it accepts).
const READ_BUF: usize = 65_536;

/// Default polling period in virtual time: 100 µs, under the 120 µs a full-size frame takes
/// on a 100 Mbit/s wire, so polling adds no more latency than the wire would.
pub const DEFAULT_POLL_INTERVAL: Nanos = 100_000;

/// How often (virtual time) the interface's up/down state is looked at for the carrier: a
/// system call, so not on every register access of the MAC.
const FLAGS_CHECK: Nanos = 10_000_000;

/// Why a TAP device could not be opened. The messages say what to do next.
#[derive(Debug, Error)]
pub enum TapError {
    /// The name is not a valid Linux interface name.
    #[error("{0:?}: not a valid interface name (1 to 15 characters, no '/', ':' or whitespace)")]
    InvalidName(String),
    /// No interface of that name exists (in this network namespace).
    #[error("{0}: no such device — create it with `ip tuntap add mode tap user $USER name {0}`")]
    NoSuchDevice(String),
    /// The interface exists but is not a single-queue TAP.
    #[error(
        "{0}: not a TAP device (a TUN, a multi-queue TAP or another kind of interface) — \
         create a TAP with `ip tuntap add mode tap user $USER name NAME`"
    )]
    NotTap(String),
    /// Another process has the TAP open.
    #[error("{0}: busy — another process has this TAP open (a TAP takes one reader)")]
    Busy(String),
    /// `/dev/net/tun` cannot be opened for reading and writing.
    #[error(
        "/dev/net/tun: permission denied — the TUN/TAP node must be readable and writable by \
         you (it is usually mode 0666: `sudo chmod 0666 /dev/net/tun`), or run with \
         CAP_NET_ADMIN"
    )]
    TunNodeDenied,
    /// The TAP belongs to another user (or group).
    #[error(
        "{0}: permission denied — the TAP belongs to another user; recreate it as yours with \
         `sudo ip tuntap del mode tap name {0} && sudo ip tuntap add mode tap user $USER name {0}`, \
         or run with CAP_NET_ADMIN"
    )]
    NotOwner(String),
    /// `/dev/net/tun` is missing.
    #[error("/dev/net/tun: {0} — load the TUN/TAP driver (`sudo modprobe tun`)")]
    NoDriver(io::Error),
    /// Any other failure.
    #[error("{name}: {source}")]
    Io {
        /// The device.
        name: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// Counters of a [`TapLink`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Frames written to the TAP.
    pub tx_frames: u64,
    /// Frames the TAP refused (its queue full, or the interface down): dropped, as a wire would.
    pub tx_dropped: u64,
    /// Frames read from the TAP.
    pub rx_frames: u64,
    /// Read errors other than "nothing to read" (logged once).
    pub rx_errors: u64,
}

/// A cloneable view of a [`TapLink`]'s counters.
#[derive(Debug, Clone, Default)]
pub struct TapHandle(Arc<Mutex<TapStats>>);

impl TapHandle {
    /// The counters so far.
    pub fn stats(&self) -> TapStats {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut TapStats)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// A [`Link`] to a host TAP device.
pub struct TapLink {
    iface: Iface,
    /// A frame read from the host and not yet received, with its arrival time.
    pending: Option<(Nanos, Vec<u8>)>,
    /// When the last frame from the host has finished arriving on the simulated wire.
    wire_free: Nanos,
    buf: Vec<u8>,
    poll_interval: Nanos,
    handle: TapHandle,
    /// A write or read error was already logged (a down interface fails every write).
    warned_tx: bool,
    warned_rx: bool,
    /// A socket in the TAP's network namespace, for reading the interface's flags.
    ctl: socket2::Socket,
    /// The interface was administratively up when last looked at: the carrier.
    up: bool,
    next_flags_check: Nanos,
}

impl std::fmt::Debug for TapLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapLink")
            .field("name", &self.iface.name())
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// Checks `name` the way the kernel would, so a bad name gets a clear error rather than a
/// truncated or surprising device.
fn check_name(name: &str) -> Result<CString, TapError> {
    let bad = name.is_empty()
        || name.len() > MAX_NAME
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0');
    if bad {
        return Err(TapError::InvalidName(name.to_string()));
    }
    CString::new(name).map_err(|_| TapError::InvalidName(name.to_string()))
}

/// Maps the errors of opening `/dev/net/tun` and `TUNSETIFF` to what the user should do.
fn classify(name: &str, e: io::Error) -> TapError {
    match e.raw_os_error() {
        // Opening the node.
        Some(libc::EACCES) => TapError::TunNodeDenied,
        Some(libc::ENOENT) | Some(libc::ENXIO) | Some(libc::ENODEV) => TapError::NoDriver(e),
        // TUNSETIFF on an existing device.
        Some(libc::EPERM) => TapError::NotOwner(name.to_string()),
        Some(libc::EINVAL) => TapError::NotTap(name.to_string()),
        Some(libc::EBUSY) => TapError::Busy(name.to_string()),
        _ => TapError::Io {
            name: name.to_string(),
            source: e,
        },
    }
}

impl TapLink {
    /// Opens the existing TAP device `name` in the calling thread's network namespace, in
    /// non-blocking mode, without packet information (whole Ethernet frames).
    pub fn open(name: &str) -> Result<TapLink, TapError> {
        let cname = check_name(name)?;
        // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
        if unsafe { libc::if_nametoindex(cname.as_ptr()) } == 0 {
            return Err(TapError::NoSuchDevice(name.to_string()));
        }
        let iface = Iface::without_packet_info(name, Mode::Tap).map_err(|e| classify(name, e))?;
        if iface.name() != name {
            // Cannot happen for a valid existing name; never hand out a different device.
            return Err(TapError::NotTap(name.to_string()));
        }
        iface.set_non_blocking().map_err(|e| TapError::Io {
            name: name.to_string(),
            source: e,
        })?;
        // Made now, in this thread's namespace, like the TAP's file descriptor.
        let ctl = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).map_err(
            |e| TapError::Io {
                name: name.to_string(),
                source: e,
            },
        )?;
        let mut link = TapLink {
            iface,
            pending: None,
            wire_free: 0,
            buf: vec![0; READ_BUF],
            poll_interval: DEFAULT_POLL_INTERVAL,
            handle: TapHandle::default(),
            warned_tx: false,
            warned_rx: false,
            ctl,
            up: true,
            next_flags_check: 0,
        };
        link.up = link.interface_up().unwrap_or(true);
        if link.up {
            tracing::info!(target: "net", "tap: {name} open");
        } else {
            tracing::warn!(
                target: "net",
                "tap: {name} is down (no carrier until `ip link set {name} up`)"
            );
        }
        Ok(link)
    }

    /// Whether the interface is administratively up (`ip link set NAME up`), or `None` if the
    /// system would not say.
    fn interface_up(&self) -> Option<bool> {
        // SAFETY: an all-zero ifreq is valid; the name fits (checked at open, at most 15
        // bytes plus the terminating NUL), and SIOCGIFFLAGS only writes ifr_flags.
        unsafe {
            let mut req: libc::ifreq = std::mem::zeroed();
            for (d, s) in req.ifr_name.iter_mut().zip(self.iface.name().bytes()) {
                *d = s as libc::c_char;
            }
            if libc::ioctl(self.ctl.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
                return None;
            }
            Some(req.ifr_ifru.ifru_flags & libc::IFF_UP as libc::c_short != 0)
        }
    }

    /// Sets how often (in virtual time) the device should poll for frames from the host.
    pub fn with_poll_interval(mut self, interval: Nanos) -> TapLink {
        self.poll_interval = interval.max(1);
        self
    }

    /// The polling period in virtual time.
    pub fn poll_interval(&self) -> Nanos {
        self.poll_interval
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        self.iface.name()
    }

    /// A handle on the counters.
    pub fn handle(&self) -> TapHandle {
        self.handle.clone()
    }

    /// Reads the host's next frame into `pending` if there is none: it starts arriving at `now`
    /// (the poll that found it) or when the previous frame has arrived, and has arrived when its
    /// last bit is in, on a 100 Mbit/s wire. The host hands over bursts at once; the MAC must
    /// see them one after another, as from a real PHY, or its 2 KiB FIFO would overflow.
    fn fill(&mut self, now: Nanos) {
        if self.pending.is_none() {
            if let Some(frame) = self.read_frame() {
                let at = now.max(self.wire_free) + wire_time_100m(frame.len());
                self.wire_free = at;
                self.pending = Some((at, frame));
            }
        }
    }

    /// Reads one frame if the host has sent one.
    fn read_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.iface.recv(&mut self.buf) {
                Ok(0) => return None,
                Ok(n) => {
                    self.handle.update(|s| s.rx_frames += 1);
                    return Some(self.buf[..n].to_vec());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                Err(e) => {
                    self.handle.update(|s| s.rx_errors += 1);
                    if !self.warned_rx {
                        self.warned_rx = true;
                        tracing::warn!(target: "net", "tap: {}: read failed: {e}", self.name());
                    }
                    return None;
                }
            }
        }
    }
}

impl Link for TapLink {
    fn transmit(&mut self, _now: Nanos, frame: &[u8]) {
        match self.iface.send(frame) {
            Ok(_) => self.handle.update(|s| s.tx_frames += 1),
            Err(e) => {
                // EIO: the interface is down; EAGAIN: its queue is full. A wire drops the frame
                // in both cases, and the guest's protocols retry.
                self.handle.update(|s| s.tx_dropped += 1);
                if !self.warned_tx {
                    self.warned_tx = true;
                    tracing::warn!(
                        target: "net",
                        "tap: {}: frame dropped ({e}); is the interface up? (`ip link set {} up`)",
                        self.name(),
                        self.name()
                    );
                }
            }
        }
    }

    fn next_arrival(&mut self, now: Nanos) -> Option<Nanos> {
        if now >= self.next_flags_check {
            self.next_flags_check = now.saturating_add(FLAGS_CHECK);
            if let Some(up) = self.interface_up() {
                self.up = up;
            }
        }
        self.fill(now);
        Some(match &self.pending {
            Some((at, _)) => *at,
            None => now.saturating_add(self.poll_interval),
        })
    }

    fn receive(&mut self, now: Nanos) -> Option<Vec<u8>> {
        self.fill(now);
        match self.pending {
            Some((at, _)) if at <= now => self.pending.take().map(|(_, f)| f),
            _ => None,
        }
    }

    /// The host side of the TAP is up (`ip link set NAME up`), as last seen by
    /// [`Link::next_arrival`] (looked at every 10 ms of virtual time).
    fn carrier(&self) -> bool {
        self.up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused_before_any_system_call() {
        for bad in ["", "a/b", "tap 0", "x:1", "sixteen-chars-xx", ".."] {
            let e = TapLink::open(bad).unwrap_err();
            assert!(matches!(e, TapError::InvalidName(_)), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_missing_device_says_how_to_create_it() {
        let e = TapLink::open("ft9-nosuchtap").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ft9-nosuchtap: no such device — create it with \
             `ip tuntap add mode tap user $USER name ft9-nosuchtap`"
        );
    }

    #[test]
    fn system_errors_map_to_advice() {
        let err = |n| io::Error::from_raw_os_error(n);
        assert!(matches!(
            classify("t", err(libc::EACCES)),
            TapError::TunNodeDenied
        ));
        assert!(matches!(
            classify("t", err(libc::EPERM)),
            TapError::NotOwner(_)
        ));
        assert!(matches!(
            classify("t", err(libc::EINVAL)),
            TapError::NotTap(_)
        ));
        assert!(matches!(classify("t", err(libc::EBUSY)), TapError::Busy(_)));
        assert!(matches!(
            classify("t", err(libc::ENOENT)),
            TapError::NoDriver(_)
        ));
        assert!(matches!(classify("t", err(libc::EIO)), TapError::Io { .. }));
        assert!(classify("tap7", err(libc::EPERM))
            .to_string()
            .contains("sudo ip tuntap add mode tap user $USER name tap7"));
    }

    #[test]
    fn lo_is_not_a_tap() {
        // `lo` exists in every namespace; TUNSETIFF refuses it (EINVAL), or, without
        // privilege, the node or the device is refused: never a link.
        match TapLink::open("lo") {
            Err(TapError::NotTap(_))
            | Err(TapError::TunNodeDenied)
            | Err(TapError::NotOwner(_))
            | Err(TapError::NoDriver(_)) => {}
            other => panic!("lo opened as a TAP: {other:?}"),
        }
    }
}
