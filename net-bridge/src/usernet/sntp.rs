//! The gateway's SNTP server: answers client requests from virtual time, mapped to wall-clock
//! time by a [`SimClock`] (an epoch plus an offset for clock-skew scenarios).

use crate::link::Nanos;
use crate::wire::sntp::{Mode, Packet, Repr, Timestamp, HEADER_LEN};

/// NTP server port.
pub const PORT: u16 = 123;

/// Maps virtual time to the wall-clock time the gateway reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimClock {
    /// Unix time (seconds) at virtual time 0.
    pub epoch_unix_secs: u64,
    /// Added to every reported time, in nanoseconds (negative: the server is behind).
    pub offset_ns: i64,
}

impl Default for SimClock {
    /// Virtual time 0 is 2024-01-01T00:00:00Z, no offset.
    fn default() -> SimClock {
        SimClock {
            epoch_unix_secs: 1_704_067_200,
            offset_ns: 0,
        }
    }
}

impl SimClock {
    /// Nanoseconds since the Unix epoch at virtual time `now`.
    pub fn unix_nanos(&self, now: Nanos) -> i128 {
        self.epoch_unix_secs as i128 * 1_000_000_000 + now as i128 + self.offset_ns as i128
    }

    /// The NTP timestamp at virtual time `now`.
    pub fn ntp(&self, now: Nanos) -> Timestamp {
        Timestamp::from_unix_nanos(self.unix_nanos(now))
    }
}

/// Answers one SNTP request (a UDP payload) received at virtual time `now`: a stratum-1 server
/// reply whose receive and transmit times are the clock's time. Anything but a client (or
/// symmetric-active) request gets no answer.
pub fn answer(clock: &SimClock, now: Nanos, request: &[u8]) -> Option<[u8; HEADER_LEN]> {
    let req = Repr::parse(&Packet::new_checked(request).ok()?).ok()?;
    if !matches!(req.mode, Mode::Client | Mode::SymmetricActive) {
        return None;
    }
    let t = clock.ntp(now);
    let reply = Repr {
        leap: 0,
        version: req.version.clamp(1, 4),
        mode: Mode::Server,
        stratum: 1,
        poll: req.poll,
        precision: -20,
        root_delay: 0,
        root_dispersion: 0x0000_0010,
        ref_id: *b"SIM\0",
        reference: t,
        originate: req.transmit,
        receive: t,
        transmit: t,
    };
    Some(reply.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_virtual_time_plus_offset() {
        let clock = SimClock {
            epoch_unix_secs: 1_000_000_000,
            offset_ns: -5_000_000_000,
        };
        let req = Repr::client_request(Timestamp(42)).to_bytes();
        let r = answer(&clock, 2_500_000_000, &req).unwrap();
        let rep = Repr::parse(&Packet::new_checked(&r[..]).unwrap()).unwrap();
        assert_eq!(rep.mode, Mode::Server);
        assert_eq!(rep.originate, Timestamp(42));
        let t = rep.transmit.to_unix_nanos();
        assert!((t - 999_999_997_500_000_000i128).abs() < 2);
        let mut server_msg = req;
        server_msg[0] = 0x24;
        assert!(answer(&clock, 0, &server_msg).is_none());
        assert!(answer(&clock, 0, &req[..20]).is_none());
    }
}
