//! The connection to gdb: a TCP stream with a packet framer in front of `gdbstub`.
//!
//! `gdbstub` ends a session at the first byte it does not expect (a stray character, a packet
//! with a bad checksum, a `-`). The [`Framer`] lets only well-formed traffic through: bytes
//! outside packets are dropped, a packet with a bad checksum is answered with `-` (gdb resends
//! it), a truncated packet followed by a new `$` is dropped, and a `-` from gdb makes the last
//! reply go out again. Replies are buffered and written in one piece per packet.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;

use gdbstub::conn::{Connection, ConnectionExt};

/// What the framer made of one byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framed {
    /// Nothing to pass on yet (inside a packet, or a byte outside packets that is dropped).
    Pending,
    /// A byte that is a message by itself: `+` (ack) or 0x03 (interrupt).
    Byte(u8),
    /// A complete packet with a valid checksum: `$`, body, `#`, two hex digits.
    Packet(Vec<u8>),
    /// gdb asked for the last reply again (`-`).
    Resend,
    /// A packet whose checksum is wrong or not hex.
    BadChecksum,
    /// A packet longer than the limit.
    TooLong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Body,
    Checksum1,
    Checksum2,
}

/// Splits gdb's byte stream into packets and single-byte messages (sans I/O).
#[derive(Debug)]
pub struct Framer {
    state: State,
    packet: Vec<u8>,
    max_len: usize,
    dropped: u64,
}

impl Framer {
    /// A framer that accepts packets of up to `max_len` bytes (including `$`, `#` and the
    /// checksum).
    pub fn new(max_len: usize) -> Framer {
        Framer {
            state: State::Idle,
            packet: Vec::new(),
            max_len,
            dropped: 0,
        }
    }

    /// Bytes dropped so far (outside packets or in truncated packets).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Feeds one byte.
    pub fn push(&mut self, byte: u8) -> Framed {
        match self.state {
            State::Idle => match byte {
                b'$' => {
                    self.packet.clear();
                    self.packet.push(byte);
                    self.state = State::Body;
                    Framed::Pending
                }
                b'+' | 0x03 => Framed::Byte(byte),
                b'-' => Framed::Resend,
                _ => {
                    self.dropped += 1;
                    Framed::Pending
                }
            },
            State::Body => {
                if byte == b'$' {
                    // A packet never contains a bare '$': the previous one was truncated.
                    self.dropped += self.packet.len() as u64;
                    self.packet.clear();
                    self.packet.push(byte);
                    return Framed::Pending;
                }
                self.packet.push(byte);
                if byte == b'#' {
                    self.state = State::Checksum1;
                }
                if self.packet.len() + 2 > self.max_len {
                    self.state = State::Idle;
                    self.dropped += self.packet.len() as u64;
                    self.packet.clear();
                    return Framed::TooLong;
                }
                Framed::Pending
            }
            State::Checksum1 => {
                self.packet.push(byte);
                self.state = State::Checksum2;
                Framed::Pending
            }
            State::Checksum2 => {
                self.packet.push(byte);
                self.state = State::Idle;
                let packet = std::mem::take(&mut self.packet);
                let n = packet.len();
                let body = &packet[1..n - 3];
                let sum = body.iter().fold(0u8, |a, &b| a.wrapping_add(b));
                let given = std::str::from_utf8(&packet[n - 2..])
                    .ok()
                    .and_then(|s| u8::from_str_radix(s, 16).ok());
                if given == Some(sum) {
                    Framed::Packet(packet)
                } else {
                    Framed::BadChecksum
                }
            }
        }
    }
}

/// A TCP connection to gdb, as `gdbstub` uses it.
pub struct RspConnection {
    stream: TcpStream,
    nonblocking: bool,
    framer: Framer,
    /// Bytes checked by the framer and not yet read by `gdbstub`.
    ready: VecDeque<u8>,
    /// Reply bytes not yet written.
    out: Vec<u8>,
    /// The last reply packet written, for `-`.
    last_packet: Vec<u8>,
    /// gdb sent `vKill` and no reply has gone out since.
    vkill_unanswered: bool,
}

impl RspConnection {
    /// Wraps an accepted stream; `max_packet` is the longest packet accepted from gdb.
    pub fn new(stream: TcpStream, max_packet: usize) -> RspConnection {
        RspConnection {
            stream,
            nonblocking: false,
            framer: Framer::new(max_packet),
            ready: VecDeque::new(),
            out: Vec::new(),
            last_packet: Vec::new(),
            vkill_unanswered: false,
        }
    }

    /// The next byte for `gdbstub`, waiting for gdb if need be. Pending replies go out first.
    pub fn next_byte(&mut self) -> io::Result<u8> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(b);
            }
            self.write_out()?;
            self.fill(true)?;
        }
    }

    /// The next byte for `gdbstub` if one has arrived (it stays queued), without waiting.
    pub fn poll_byte(&mut self) -> io::Result<Option<u8>> {
        if self.ready.is_empty() {
            self.write_out()?;
            self.fill(false)?;
        }
        Ok(self.ready.front().copied())
    }

    fn set_blocking(&mut self, block: bool) -> io::Result<()> {
        if self.nonblocking == block {
            self.stream.set_nonblocking(!block)?;
            self.nonblocking = !block;
        }
        Ok(())
    }

    /// Reads what the socket has (waiting for something when `block`) through the framer.
    fn fill(&mut self, block: bool) -> io::Result<()> {
        self.set_blocking(block)?;
        let mut buf = [0u8; 4096];
        let n = match Read::read(&mut self.stream, &mut buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "gdb closed the connection",
                ))
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && !block => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        };
        for &byte in &buf[..n] {
            match self.framer.push(byte) {
                Framed::Pending => {}
                Framed::Byte(b) => self.ready.push_back(b),
                Framed::Packet(p) => {
                    if p.starts_with(b"$vKill") {
                        self.vkill_unanswered = true;
                    }
                    self.ready.extend(p)
                }
                Framed::Resend => {
                    let packet = self.last_packet.clone();
                    self.raw_write(&packet)?;
                }
                Framed::BadChecksum => self.raw_write(b"-")?,
                Framed::TooLong => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "gdb sent a packet longer than the advertised PacketSize",
                    ))
                }
            }
        }
        Ok(())
    }

    fn raw_write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.set_blocking(true)?;
        Write::write_all(&mut self.stream, bytes)?;
        Write::flush(&mut self.stream)
    }

    fn write_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        if let Some(start) = self.out.iter().rposition(|&b| b == b'$') {
            self.last_packet = self.out[start..].to_vec();
            self.vkill_unanswered = false;
        }
        let out = std::mem::take(&mut self.out);
        let result = self.raw_write(&out);
        self.out = out;
        self.out.clear();
        result
    }
}

impl Drop for RspConnection {
    /// `gdbstub` does not flush the acknowledgement of a `k` before it ends the session. Nor
    /// does it answer `vKill` (gdb's first try at `kill`) when it ends the session for one:
    /// gdb waits for that answer and, finding the connection closed, reports "Remote
    /// connection closed" (an `^error` over MI, where VS Code's Stop sends `kill`). The
    /// program is killed: say so.
    fn drop(&mut self) {
        let _ = self.write_out();
        if self.vkill_unanswered {
            let _ = self.raw_write(b"$OK#9a");
        }
    }
}

impl Connection for RspConnection {
    type Error = io::Error;

    fn write(&mut self, byte: u8) -> io::Result<()> {
        self.out.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out()
    }

    fn on_session_start(&mut self) -> io::Result<()> {
        self.stream.set_nodelay(true)
    }
}

impl ConnectionExt for RspConnection {
    fn read(&mut self) -> io::Result<u8> {
        self.next_byte()
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        self.poll_byte()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(f: &mut Framer, bytes: &[u8]) -> Vec<Framed> {
        bytes
            .iter()
            .map(|&b| f.push(b))
            .filter(|r| *r != Framed::Pending)
            .collect()
    }

    #[test]
    fn passes_good_packets_and_control_bytes() {
        let mut f = Framer::new(64);
        assert_eq!(
            feed(&mut f, b"+$g#67\x03"),
            vec![
                Framed::Byte(b'+'),
                Framed::Packet(b"$g#67".to_vec()),
                Framed::Byte(3)
            ]
        );
    }

    #[test]
    fn drops_garbage_and_truncated_packets() {
        let mut f = Framer::new(64);
        assert_eq!(
            feed(&mut f, b"hello$m0,4$g#67"),
            vec![Framed::Packet(b"$g#67".to_vec())]
        );
        assert_eq!(f.dropped(), 5 + 5);
    }

    #[test]
    fn rejects_bad_checksums_and_long_packets() {
        let mut f = Framer::new(64);
        assert_eq!(feed(&mut f, b"$g#00"), vec![Framed::BadChecksum]);
        assert_eq!(feed(&mut f, b"$g#zz"), vec![Framed::BadChecksum]);
        assert_eq!(feed(&mut f, b"-"), vec![Framed::Resend]);
        let mut long = vec![b'a'; 101];
        long[0] = b'$';
        assert_eq!(feed(&mut f, &long), vec![Framed::TooLong]);
        // The framer recovers at the next packet.
        assert_eq!(
            feed(&mut f, b"#00$?#3f"),
            vec![Framed::Packet(b"$?#3f".to_vec())]
        );
    }
}
