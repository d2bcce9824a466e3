//! (S)NTP messages (RFC 4330 / RFC 5905): the 48-byte header; extension fields and MACs that
//! follow it are ignored.

use super::WireError;

/// Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Length of the fixed NTP header.
pub const HEADER_LEN: usize = 48;

/// The association mode of an NTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Symmetric active (1).
    SymmetricActive,
    /// Symmetric passive (2).
    SymmetricPassive,
    /// Client request (3).
    Client,
    /// Server reply (4).
    Server,
    /// Broadcast (5).
    Broadcast,
    /// Any other value (0, 6, 7).
    Other(u8),
}

impl From<u8> for Mode {
    fn from(v: u8) -> Mode {
        match v & 7 {
            1 => Mode::SymmetricActive,
            2 => Mode::SymmetricPassive,
            3 => Mode::Client,
            4 => Mode::Server,
            5 => Mode::Broadcast,
            v => Mode::Other(v),
        }
    }
}

impl From<Mode> for u8 {
    fn from(m: Mode) -> u8 {
        match m {
            Mode::SymmetricActive => 1,
            Mode::SymmetricPassive => 2,
            Mode::Client => 3,
            Mode::Server => 4,
            Mode::Broadcast => 5,
            Mode::Other(v) => v & 7,
        }
    }
}

/// An NTP timestamp: seconds since 1900 in the high 32 bits, binary fraction in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The timestamp of `unix_nanos` nanoseconds after the Unix epoch (era-wrapped, as NTP does).
    pub fn from_unix_nanos(unix_nanos: i128) -> Timestamp {
        let ntp_nanos = unix_nanos + NTP_UNIX_OFFSET as i128 * 1_000_000_000;
        let secs = ntp_nanos.div_euclid(1_000_000_000);
        let sub = ntp_nanos.rem_euclid(1_000_000_000) as u64;
        let frac = (sub << 32) / 1_000_000_000;
        Timestamp(((secs as u64 & 0xffff_ffff) << 32) | frac)
    }

    /// Nanoseconds after the Unix epoch, taking the timestamp to lie in era 0 (1900–2036) or,
    /// for seconds values below 2^31, in era 1 (2036–2104).
    pub fn to_unix_nanos(self) -> i128 {
        let mut secs = (self.0 >> 32) as i128;
        if secs < (1 << 31) {
            secs += 1 << 32;
        }
        let frac = (self.0 & 0xffff_ffff) as i128;
        (secs - NTP_UNIX_OFFSET as i128) * 1_000_000_000 + ((frac * 1_000_000_000) >> 32)
    }
}

mod field {
    pub const FLAGS: usize = 0;
    pub const STRATUM: usize = 1;
    pub const POLL: usize = 2;
    pub const PRECISION: usize = 3;
    pub const ROOT_DELAY: usize = 4;
    pub const ROOT_DISPERSION: usize = 8;
    pub const REF_ID: usize = 12;
    pub const REF_TS: usize = 16;
    pub const ORIG_TS: usize = 24;
    pub const RECV_TS: usize = 32;
    pub const XMIT_TS: usize = 40;
}

/// A read/write view of an NTP message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer that holds at least the 48-byte header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let have = buffer.as_ref().len();
        if have < HEADER_LEN {
            return Err(WireError::Truncated {
                need: HEADER_LEN,
                have,
            });
        }
        Ok(Packet { buffer })
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    fn u64_at(&self, at: usize) -> u64 {
        ((self.u32_at(at) as u64) << 32) | self.u32_at(at + 4) as u64
    }

    /// Leap indicator (0–3).
    pub fn leap(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS] >> 6
    }

    /// Protocol version (3 or 4 in practice).
    pub fn version(&self) -> u8 {
        (self.buffer.as_ref()[field::FLAGS] >> 3) & 7
    }

    /// Association mode.
    pub fn mode(&self) -> Mode {
        Mode::from(self.buffer.as_ref()[field::FLAGS])
    }

    /// Stratum (0 = unspecified/kiss-o'-death, 1 = primary reference).
    pub fn stratum(&self) -> u8 {
        self.buffer.as_ref()[field::STRATUM]
    }

    /// Poll interval exponent (log2 seconds).
    pub fn poll(&self) -> i8 {
        self.buffer.as_ref()[field::POLL] as i8
    }

    /// Clock precision exponent (log2 seconds).
    pub fn precision(&self) -> i8 {
        self.buffer.as_ref()[field::PRECISION] as i8
    }

    /// Root delay (NTP short format, 16.16 seconds).
    pub fn root_delay(&self) -> u32 {
        self.u32_at(field::ROOT_DELAY)
    }

    /// Root dispersion (NTP short format, 16.16 seconds).
    pub fn root_dispersion(&self) -> u32 {
        self.u32_at(field::ROOT_DISPERSION)
    }

    /// Reference identifier.
    pub fn ref_id(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [
            b[field::REF_ID],
            b[field::REF_ID + 1],
            b[field::REF_ID + 2],
            b[field::REF_ID + 3],
        ]
    }

    /// Time the server's clock was last set.
    pub fn reference_timestamp(&self) -> Timestamp {
        Timestamp(self.u64_at(field::REF_TS))
    }

    /// The client's transmit time, echoed by the server.
    pub fn originate_timestamp(&self) -> Timestamp {
        Timestamp(self.u64_at(field::ORIG_TS))
    }

    /// Time the request arrived at the server.
    pub fn receive_timestamp(&self) -> Timestamp {
        Timestamp(self.u64_at(field::RECV_TS))
    }

    /// Time the message left its sender.
    pub fn transmit_timestamp(&self) -> Timestamp {
        Timestamp(self.u64_at(field::XMIT_TS))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u32_at(&mut self, at: usize, v: u32) {
        self.buffer.as_mut()[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    fn set_u64_at(&mut self, at: usize, v: u64) {
        self.buffer.as_mut()[at..at + 8].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets leap indicator, version and mode.
    pub fn set_flags(&mut self, leap: u8, version: u8, mode: Mode) {
        self.buffer.as_mut()[field::FLAGS] = (leap & 3) << 6 | (version & 7) << 3 | u8::from(mode);
    }

    /// Sets the stratum.
    pub fn set_stratum(&mut self, v: u8) {
        self.buffer.as_mut()[field::STRATUM] = v;
    }

    /// Sets the poll exponent.
    pub fn set_poll(&mut self, v: i8) {
        self.buffer.as_mut()[field::POLL] = v as u8;
    }

    /// Sets the precision exponent.
    pub fn set_precision(&mut self, v: i8) {
        self.buffer.as_mut()[field::PRECISION] = v as u8;
    }

    /// Sets the root delay.
    pub fn set_root_delay(&mut self, v: u32) {
        self.set_u32_at(field::ROOT_DELAY, v);
    }

    /// Sets the root dispersion.
    pub fn set_root_dispersion(&mut self, v: u32) {
        self.set_u32_at(field::ROOT_DISPERSION, v);
    }

    /// Sets the reference identifier.
    pub fn set_ref_id(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::REF_ID..field::REF_ID + 4].copy_from_slice(&v);
    }

    /// Sets the reference timestamp.
    pub fn set_reference_timestamp(&mut self, t: Timestamp) {
        self.set_u64_at(field::REF_TS, t.0);
    }

    /// Sets the originate timestamp.
    pub fn set_originate_timestamp(&mut self, t: Timestamp) {
        self.set_u64_at(field::ORIG_TS, t.0);
    }

    /// Sets the receive timestamp.
    pub fn set_receive_timestamp(&mut self, t: Timestamp) {
        self.set_u64_at(field::RECV_TS, t.0);
    }

    /// Sets the transmit timestamp.
    pub fn set_transmit_timestamp(&mut self, t: Timestamp) {
        self.set_u64_at(field::XMIT_TS, t.0);
    }
}

/// The fields of an NTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Leap indicator (0–3; 3 = clock unsynchronised).
    pub leap: u8,
    /// Protocol version.
    pub version: u8,
    /// Association mode.
    pub mode: Mode,
    /// Stratum.
    pub stratum: u8,
    /// Poll exponent.
    pub poll: i8,
    /// Precision exponent.
    pub precision: i8,
    /// Root delay, 16.16 seconds.
    pub root_delay: u32,
    /// Root dispersion, 16.16 seconds.
    pub root_dispersion: u32,
    /// Reference identifier.
    pub ref_id: [u8; 4],
    /// Reference timestamp.
    pub reference: Timestamp,
    /// Originate timestamp.
    pub originate: Timestamp,
    /// Receive timestamp.
    pub receive: Timestamp,
    /// Transmit timestamp.
    pub transmit: Timestamp,
}

impl Repr {
    /// Reads the header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr, WireError> {
        if p.version() == 0 {
            return Err(WireError::Malformed("NTP version 0"));
        }
        Ok(Repr {
            leap: p.leap(),
            version: p.version(),
            mode: p.mode(),
            stratum: p.stratum(),
            poll: p.poll(),
            precision: p.precision(),
            root_delay: p.root_delay(),
            root_dispersion: p.root_dispersion(),
            ref_id: p.ref_id(),
            reference: p.reference_timestamp(),
            originate: p.originate_timestamp(),
            receive: p.receive_timestamp(),
            transmit: p.transmit_timestamp(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into the first 48 bytes of the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_flags(self.leap, self.version, self.mode);
        p.set_stratum(self.stratum);
        p.set_poll(self.poll);
        p.set_precision(self.precision);
        p.set_root_delay(self.root_delay);
        p.set_root_dispersion(self.root_dispersion);
        p.set_ref_id(self.ref_id);
        p.set_reference_timestamp(self.reference);
        p.set_originate_timestamp(self.originate);
        p.set_receive_timestamp(self.receive);
        p.set_transmit_timestamp(self.transmit);
    }

    /// A client request (version 4) whose transmit timestamp is `transmit`.
    pub fn client_request(transmit: Timestamp) -> Repr {
        Repr {
            leap: 0,
            version: 4,
            mode: Mode::Client,
            stratum: 0,
            poll: 0,
            precision: 0,
            root_delay: 0,
            root_dispersion: 0,
            ref_id: [0; 4],
            reference: Timestamp(0),
            originate: Timestamp(0),
            receive: Timestamp(0),
            transmit,
        }
    }

    /// The header as a 48-byte message.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut buf = [0u8; HEADER_LEN];
        self.emit(&mut Packet::new_unchecked(&mut buf[..]));
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_unix_nanoseconds() {
        let t = 1_704_067_200_123_456_789i128;
        let ts = Timestamp::from_unix_nanos(t);
        assert_eq!(ts.0 >> 32, 1_704_067_200 + NTP_UNIX_OFFSET);
        assert!((ts.to_unix_nanos() - t).abs() <= 1);
        assert_eq!(Timestamp::from_unix_nanos(0).0, NTP_UNIX_OFFSET << 32);
    }

    #[test]
    fn repr_round_trips_and_short_buffers_are_errors() {
        let mut r = Repr::client_request(Timestamp(0x1234_5678_9abc_def0));
        r.poll = 6;
        r.precision = -20;
        let bytes = r.to_bytes();
        assert_eq!(bytes[0], 0x23);
        let back = Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            Packet::new_checked(&bytes[..47]).unwrap_err(),
            WireError::Truncated { need: 48, have: 47 }
        );
        let mut zero = bytes;
        zero[0] = 0x03;
        assert!(Repr::parse(&Packet::new_checked(&zero[..]).unwrap()).is_err());
    }
}
