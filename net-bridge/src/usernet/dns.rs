//! The gateway's DNS server: A records from a table the caller provides, NXDOMAIN for other
//! names, and (optionally) forwarding of unknown names to the host's resolver.
//!
//! Messages are parsed and built with `simple-dns`; this module only decides the answer.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use simple_dns::rdata::{RData, A};
use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS, OPCODE, QTYPE, RCODE, TYPE};

/// DNS server port.
pub const PORT: u16 = 53;

/// Names the gateway answers, each with one IPv4 address. Names are case-insensitive and a
/// trailing dot is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsTable {
    entries: BTreeMap<String, Ipv4Addr>,
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsTable {
    /// An empty table.
    pub fn new() -> DnsTable {
        DnsTable::default()
    }

    /// Adds or replaces `name` → `addr`.
    pub fn insert(&mut self, name: &str, addr: Ipv4Addr) {
        self.entries.insert(normalize(name), addr);
    }

    /// The address of `name`, if the table has it.
    pub fn get(&self, name: &str) -> Option<Ipv4Addr> {
        self.entries.get(&normalize(name)).copied()
    }

    /// Every entry, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Ipv4Addr)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Whether some name maps to `addr`.
    pub fn contains_addr(&self, addr: Ipv4Addr) -> bool {
        self.entries.values().any(|a| *a == addr)
    }
}

/// What to do with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsOutcome {
    /// Send this response.
    Reply(Vec<u8>),
    /// Ask the host resolver for the A records of `name`, then answer with
    /// [`reply_from_addresses`].
    Forward {
        /// The name asked for.
        name: String,
    },
    /// Not a query (or not even a DNS header): send nothing.
    Ignore,
}

fn header_only_reply(id: u16, rd: bool, rcode: RCODE) -> Vec<u8> {
    let mut p = Packet::new_reply(id);
    if rd {
        p.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    *p.rcode_mut() = rcode;
    p.build_bytes_vec().unwrap_or_default()
}

fn build(query: &Packet<'_>, rcode: RCODE, answers: Vec<ResourceRecord<'_>>, ra: bool) -> Vec<u8> {
    let mut p = Packet::new_reply(query.id());
    let mut flags = PacketFlag::AUTHORITATIVE_ANSWER;
    if query.has_flags(PacketFlag::RECURSION_DESIRED) {
        flags |= PacketFlag::RECURSION_DESIRED;
    }
    if ra {
        flags |= PacketFlag::RECURSION_AVAILABLE;
    }
    p.set_flags(flags);
    *p.rcode_mut() = rcode;
    p.questions = query.questions.clone();
    p.answers = answers;
    p.build_bytes_vec_compressed().unwrap_or_default()
}

fn a_records<'a>(name: &Name<'a>, addrs: &[Ipv4Addr], ttl: u32) -> Vec<ResourceRecord<'a>> {
    addrs
        .iter()
        .map(|a| {
            ResourceRecord::new(
                name.clone(),
                CLASS::IN,
                ttl,
                RData::A(A {
                    address: u32::from(*a),
                }),
            )
        })
        .collect()
}

/// Answers one DNS query (a UDP payload) from `table`. With `forward`, names not in the table
/// are handed to the host resolver instead of getting NXDOMAIN.
pub fn answer(table: &DnsTable, query: &[u8], ttl: u32, forward: bool) -> DnsOutcome {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return DnsOutcome::Ignore;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    let rd = query[2] & 1 != 0;
    let packet = match Packet::parse(query) {
        Ok(p) => p,
        Err(_) => return DnsOutcome::Reply(header_only_reply(id, rd, RCODE::FormatError)),
    };
    if packet.opcode() != OPCODE::StandardQuery {
        return DnsOutcome::Reply(header_only_reply(id, rd, RCODE::NotImplemented));
    }
    let Some(q) = packet.questions.first() else {
        return DnsOutcome::Reply(header_only_reply(id, rd, RCODE::FormatError));
    };
    let name = q.qname.to_string();
    match table.get(&name) {
        Some(addr) => {
            let answers = match q.qtype {
                QTYPE::TYPE(TYPE::A) | QTYPE::ANY => a_records(&q.qname, &[addr], ttl),
                // The name exists but has no records of that type (NODATA).
                _ => Vec::new(),
            };
            DnsOutcome::Reply(build(&packet, RCODE::NoError, answers, forward))
        }
        None if forward && matches!(q.qtype, QTYPE::TYPE(TYPE::A) | QTYPE::ANY) => {
            DnsOutcome::Forward {
                name: normalize(&name),
            }
        }
        None => DnsOutcome::Reply(build(&packet, RCODE::NameError, Vec::new(), forward)),
    }
}

/// Answers `query` with the host resolver's result for its name: the addresses, or NXDOMAIN
/// when there are none. `None` if the query cannot be parsed.
pub fn reply_from_addresses(query: &[u8], addrs: &[Ipv4Addr], ttl: u32) -> Option<Vec<u8>> {
    let packet = Packet::parse(query).ok()?;
    let q = packet.questions.first()?;
    let (rcode, answers) = if addrs.is_empty() {
        (RCODE::NameError, Vec::new())
    } else {
        (RCODE::NoError, a_records(&q.qname, addrs, ttl))
    };
    let mut out = build(&packet, rcode, answers, true);
    // Forwarded answers are not authoritative.
    if out.len() > 2 {
        out[2] &= !0x04;
    }
    Some(out)
}

/// Builds an A query for `name` with transaction `id` (for tests and tools).
pub fn query(id: u16, name: &str) -> Option<Vec<u8>> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(simple_dns::Question::new(
        Name::new(name).ok()?,
        QTYPE::TYPE(TYPE::A),
        simple_dns::QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().ok()
}

/// Reads the response code and A records of a response (for tests and tools).
pub fn parse_response(bytes: &[u8]) -> Option<(u16, RCODE, Vec<Ipv4Addr>)> {
    let p = Packet::parse(bytes).ok()?;
    let addrs = p
        .answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::A(a) => Some(Ipv4Addr::from(a.address)),
            _ => None,
        })
        .collect();
    Some((p.id(), p.rcode(), addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DnsTable {
        let mut t = DnsTable::new();
        t.insert(
            "DynamoDB.us-east-1.amazonaws.com.",
            Ipv4Addr::new(10, 0, 2, 100),
        );
        t
    }

    #[test]
    fn known_names_get_a_records_others_nxdomain() {
        let q = query(7, "dynamodb.us-east-1.amazonaws.com").unwrap();
        let DnsOutcome::Reply(r) = answer(&table(), &q, 60, false) else {
            panic!()
        };
        assert_eq!(
            parse_response(&r),
            Some((7, RCODE::NoError, vec![Ipv4Addr::new(10, 0, 2, 100)]))
        );
        let q = query(8, "example.com").unwrap();
        let DnsOutcome::Reply(r) = answer(&table(), &q, 60, false) else {
            panic!()
        };
        assert_eq!(parse_response(&r), Some((8, RCODE::NameError, vec![])));
        assert_eq!(
            answer(&table(), &q, 60, true),
            DnsOutcome::Forward {
                name: "example.com".into()
            }
        );
        let r = reply_from_addresses(&q, &[Ipv4Addr::new(1, 2, 3, 4)], 60).unwrap();
        assert_eq!(
            parse_response(&r),
            Some((8, RCODE::NoError, vec![Ipv4Addr::new(1, 2, 3, 4)]))
        );
    }

    #[test]
    fn garbage_is_ignored_or_answered_with_formerr() {
        assert_eq!(answer(&table(), b"short", 60, false), DnsOutcome::Ignore);
        let mut junk = vec![0xab, 0xcd, 0x01, 0x00, 0x00, 0x05];
        junk.extend_from_slice(&[0xff; 20]);
        let DnsOutcome::Reply(r) = answer(&table(), &junk, 60, false) else {
            panic!()
        };
        assert_eq!(parse_response(&r).unwrap().1, RCODE::FormatError);
        // Responses are never answered.
        let mut resp = query(1, "a.b").unwrap();
        resp[2] |= 0x80;
        assert_eq!(answer(&table(), &resp, 60, false), DnsOutcome::Ignore);
    }
}
