//! The FT900's devices as a debugger sees them ([`Inspect`]): register dumps with the names and
//! addresses of docs/hardware/, the UARTs' output so far, the MAC's counters and the clocks.
//! Every value comes from an accessor that leaves the device as it was.

use super::device::{Device, CPU_HZ};
use super::eth::BUFFER_WORDS;
use super::rtc_calendar::{civil_from_days, Calendar};
use super::Ft900;
use crate::inspect::{ConsoleLog, Inspect, RegValue};

use super::regs::{self, Access, Bank, Reg};

/// The base address of block `name` on this chip, from the register map (one place).
fn base(chip: super::ChipRevision, name: &str) -> u32 {
    regs::block(name, chip).map_or(0, |b| b.base)
}

/// The listing of `block` from its description: every single register of this revision that
/// `peek` can read without side effects, with the description's name, address and width.
fn table_dump(
    chip: super::ChipRevision,
    block: &str,
    peek: impl Fn(&Reg) -> Option<u32>,
) -> Vec<RegValue> {
    let Some(b) = regs::block(block, chip) else {
        return Vec::new();
    };
    b.regs_on(chip)
        .filter(|r| r.count == 1)
        .filter(|r| {
            !matches!(
                r.access,
                Access::Port | Access::ReadLatches | Access::ReadClears | Access::Unmodelled
            )
        })
        .filter_map(|r| peek(r).map(|v| reg(r.name, b.base + r.offset, v, r.bytes)))
        .collect()
}

/// ICR data port of a UART (offset 5): where the indexed registers are reached.
const UART_ICR: u32 = regs::uart::ICR;

impl Inspect for Ft900 {
    fn console(&self) -> Vec<ConsoleLog> {
        self.uart
            .iter()
            .map(|u| ConsoleLog {
                port: u.name(),
                bytes: u.tx_log().bytes(),
                omitted: u.tx_log().omitted(),
                pending: u.tx_pending(),
            })
            .collect()
    }

    fn net(&self, now: u64) -> Option<Vec<String>> {
        let eth = &self.eth;
        let mac = eth
            .mac_address()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        let link = if !eth.has_link() {
            "no cable attached".to_string()
        } else if eth.link_up(now) {
            "up".to_string()
        } else {
            "down".to_string()
        };
        let c = eth.counters();
        let mut lines = vec![
            format!("mac address {mac}, link {link}"),
            format!(
                "rx fifo {} of {BUFFER_WORDS} words, {} frames waiting (ETH_NUM_PKT)",
                eth.rx_fifo_words(),
                eth.num_pkt()
            ),
            format!(
                "tx {} frames, {} bytes; errors {}, dropped (no link) {}",
                c.tx_frames, c.tx_bytes, c.tx_errors, c.tx_dropped
            ),
            format!(
                "rx {} frames, {} bytes; fifo overflows {}, filtered {}, dropped: rx disabled {}, in the phy {}; bad fcs {}, runts {}",
                c.rx_frames,
                c.rx_bytes,
                c.rx_overflows,
                c.rx_filtered,
                c.rx_dropped_disabled,
                c.rx_dropped_phy,
                c.rx_bad_fcs,
                c.rx_runts
            ),
            format!("mdio transactions {}", c.mdio_transactions),
        ];
        // The link backends (user network, TAP, impairments) keep no counters the machine can
        // see; the gateway's side is reported by the scenario runner.
        lines.push("link-side counters: not kept by the attached link".to_string());
        Some(lines)
    }

    fn io_blocks(&self) -> Vec<&'static str> {
        vec![
            "sys", "intc", "eth", "rtc", "uart0", "uart1", "timers", "gpio", "i2cm", "flash",
        ]
    }

    fn io_dump(&self, block: &str, now: u64) -> Option<(Vec<RegValue>, Vec<String>)> {
        Some(match block {
            "sys" => (
                table_dump(self.chip(), "sys", |r| {
                    let v = self
                        .sys
                        .peek(r.offset)
                        .filter(|_| !r.name.starts_with("GPIO_"))?;
                    // Rev C: ETH_PHY_CFG's top byte is the PHY's status, as a read shows it.
                    Some(
                        if r.offset == regs::sys::ETH_PHY_CFG && !self.chip().is_rev_b() {
                            (v & !super::eth::PHY_CFG_STATUS_MASK) | self.eth.phy_cfg_status_at(now)
                        } else {
                            v
                        },
                    )
                }),
                vec!["pad and GPIO configuration bytes (0x1001C..0x10083) not shown".into()],
            ),
            "intc" => {
                let regs = table_dump(self.chip(), "intc", |r| Some(self.intc_word(r.offset)));
                let notes = vec![format!(
                    "global mask {}, in service {:?}",
                    if self.intc.masked() { "set" } else { "clear" },
                    self.intc.in_service()
                )];
                (regs, notes)
            }
            "eth" => (
                table_dump(self.chip(), "eth", |r| {
                    self.eth.peek(r.offset).map(u32::from)
                }),
                vec!["ETH_DATA (0x10224) is the FIFO port: not read".into()],
            ),
            "rtc" if self.chip().is_rev_b() => (
                table_dump(self.chip(), "rtc", |r| {
                    Some(self.rtc.register(r.offset, now))
                }),
                vec![format!(
                    "rev B counter in 1/32 s: {} s, {}",
                    self.rtc.counter(now) >> 5,
                    if self.rtc.enabled() {
                        "counting"
                    } else {
                        "stopped"
                    }
                )],
            ),
            "rtc" => (
                self.rtc_calendar
                    .registers(now)
                    .into_iter()
                    .map(|(name, off, value)| reg(name, base(self.chip(), "rtc") + off, value, 4))
                    .collect(),
                vec![format!(
                    "rev C calendar counters: {}; at power-on {}",
                    calendar_text(self.rtc_calendar.calendar(now)),
                    calendar_text(self.rtc_calendar.start())
                )],
            ),
            "gpio" => (
                table_dump(self.chip(), "sys", |r| {
                    self.sys
                        .peek(r.offset)
                        .filter(|_| r.name.starts_with("GPIO_"))
                }),
                self.gpio.describe(&self.sys),
            ),
            "i2cm" => self.i2cm_dump(),
            "flash" => self.flash_dump(),
            "uart0" => self.uart_dump(0),
            "uart1" => self.uart_dump(1),
            "timers" => {
                let mut notes: Vec<String> = (0..4)
                    .map(|t| {
                        format!(
                            "timer {}: {} value {}, roll-overs {}",
                            ["A", "B", "C", "D"][t],
                            if self.timers.running(t) {
                                "running,"
                            } else {
                                "stopped,"
                            },
                            self.timers.counter(t, now),
                            self.timers.rollovers(t)
                        )
                    })
                    .collect();
                notes.push(format!(
                    "watchdog {}, expiries {}",
                    if self.timers.watchdog_started() {
                        "started"
                    } else {
                        "not started"
                    },
                    self.timers.watchdog_expiries()
                ));
                notes.push(
                    "TIMER_READ_LS/MS (0x1034c) not read: a read latches the counter".to_string(),
                );
                let regs = table_dump(self.chip(), "timers", |r| {
                    self.timers.peek(r.offset).map(u32::from)
                });
                (regs, notes)
            }
            _ => return None,
        })
    }

    fn clocks(&self, now: u64) -> Vec<String> {
        if self.chip().is_rev_b() {
            let count = self.rtc.counter(now);
            return vec![format!(
                "rtc RTC_CCVR {count} = {} s (rev B: 32 counts per second, {})",
                count >> 5,
                if self.rtc.enabled() {
                    "counting"
                } else {
                    "stopped"
                }
            )];
        }
        vec![format!(
            "rtc {} (rev C calendar; at power-on {})",
            calendar_text(self.rtc_calendar.calendar(now)),
            calendar_text(self.rtc_calendar.start())
        )]
    }
}

/// A calendar as UTC text when its fields are a valid date, else its raw register images.
fn calendar_text(cal: Calendar) -> String {
    match cal.to_unix() {
        Some(secs) => format!("{} UTC", utc(secs)),
        None => format!("RTC_TIME {:#010x} RTC_DATE {:#010x}", cal.time, cal.date),
    }
}

impl Ft900 {
    fn intc_word(&self, offset: u32) -> u32 {
        match self.intc.read(offset, crate::isa::Width::Word) {
            super::device::Access::Done(v) => v,
            super::device::Access::Unmodelled => 0,
        }
    }

    fn i2cm_dump(&self) -> (Vec<RegValue>, Vec<String>) {
        let m = &self.i2cm;
        let regs = m
            .registers()
            .into_iter()
            .map(|(name, off, value)| reg(name, base(self.chip(), "i2cm") + off, value.into(), 1))
            .collect();
        let channel = usize::from(self.sys.view().msc0cfg & super::sys::msc0::I2C_SWOP != 0);
        let scl = m.scl_cycles();
        let mut notes = vec![format!(
            "master on channel {channel} (MSC0CFG.I2C_SWOP), SCL period {scl} cycles ({:.1} kHz)",
            CPU_HZ as f64 / scl as f64 / 1000.0
        )];
        for ch in 0..2 {
            let devices = m.buses().channel(ch);
            if devices.is_empty() {
                notes.push(format!("channel {ch}: no devices"));
            }
            for d in devices {
                notes.push(format!("channel {ch}: {}", d.describe()));
            }
        }
        let c = m.counters();
        notes.push(format!(
            "operations {}, address NACKs {}, bytes written {}, read {}",
            c.operations, c.address_nacks, c.bytes_written, c.bytes_read
        ));
        (regs, notes)
    }

    fn flash_dump(&self) -> (Vec<RegValue>, Vec<String>) {
        let regs = self
            .flash
            .registers()
            .into_iter()
            .map(|(name, off, value)| reg(name, base(self.chip(), "flash") + off, value.into(), 1))
            .collect();
        let c = self.flash.counters();
        let notes = vec![
            format!(
                "commands {}, bytes programmed {}, erases {}, PM bytes written {}, refused {}, reboots {}",
                c.commands, c.bytes_programmed, c.erases, c.pm_bytes_written, c.refused, c.reboots
            ),
            "CRCL/CRCH, CHIPID0..3 and DRWDATA are not modelled".into(),
        ];
        (regs, notes)
    }

    fn uart_dump(&self, i: usize) -> (Vec<RegValue>, Vec<String>) {
        let u = &self.uart[i];
        let sys = self.sys.view();
        let regs = regs::block(u.name(), self.chip())
            .map(|b| {
                b.regs
                    .iter()
                    .filter_map(|r| {
                        let value = u.peek(r, &sys)?;
                        Some(if r.bank == Bank::Indexed {
                            let name = format!("ICR[{:02x}] {}", r.offset, r.name);
                            reg(&name, b.base + UART_ICR, value.into(), 1)
                        } else {
                            reg(r.name, b.base + r.offset, value.into(), 1)
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (rx, tx) = u.fifo_levels();
        let cycles = u.char_cycles();
        let notes = vec![
            format!("rx fifo {rx} bytes, tx fifo {tx} bytes"),
            format!(
                "one character takes {cycles} cycles ({:.1} characters/s)",
                CPU_HZ as f64 / cycles as f64
            ),
        ];
        (regs, notes)
    }
}

fn reg(name: &str, addr: u32, value: u32, bytes: u8) -> RegValue {
    RegValue {
        name: name.to_string(),
        addr,
        value,
        bytes,
    }
}

/// `seconds` since 1970 as `YYYY-MM-DD hh:mm:ss` (proleptic Gregorian).
fn utc(seconds: u64) -> String {
    let (y, m, d) = civil_from_days((seconds / 86_400) as i64);
    let secs = seconds % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ft900::Ft900Config;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_764_417_600), "2025-11-29 12:00:00");
    }

    #[test]
    fn a_fresh_chip_dumps_its_reset_values() {
        let chip = Ft900::new(Ft900Config::default());
        let (regs, _) = chip.io_dump("sys", 0).unwrap();
        let hipid = regs.iter().find(|r| r.name == "HIPID").unwrap();
        assert_eq!(
            (hipid.addr, hipid.value),
            (0x1_0000, 0x0900_0002),
            "rev C by default"
        );
        let (regs, _) = chip.io_dump("intc", 0).unwrap();
        assert_eq!(regs[0].value, 0x0302_0100);
        assert_eq!(regs[8].value, 0x8000_0000);
        assert!(chip.io_dump("usb", 0).is_none());
        let (regs, notes) = chip.io_dump("timers", 0).unwrap();
        assert_eq!(regs.len(), 12);
        assert_eq!(
            (regs[0].name.as_str(), regs[0].addr),
            ("TIMER_CONTROL_0", 0x1_0340)
        );
        assert!(
            notes[0].starts_with("timer A: stopped, value 0"),
            "{notes:?}"
        );
        assert_eq!(chip.console().len(), 2);
        assert!(chip.net(0).unwrap()[0].contains("no cable attached"));
    }
}
