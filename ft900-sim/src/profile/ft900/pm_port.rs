//! The program-memory write port at 0x1FC80 (FT900-HARDWARE.md §3.2; the SDK's
//! `memcpy_dat2pm` in `memctl.c` uses it on the FT900): writing 0x1337F7D1 to UNLOCK
//! (0x1FC80) opens it, any other value closes it; ADDR (0x1FC84) takes a PM byte address;
//! each 32-bit write of DATA (0x1FC88, usually by `streamout.l`) stores the word there and
//! advances ADDR by 4. Writes go through [`super::flash::FlashCtrl::write_pm`], the one PM
//! write path, so the bootloader's area is refused there as for the flash controller.

/// UNLOCK register.
pub const UNLOCK: u32 = 0x1_FC80;
/// ADDR register.
pub const ADDR: u32 = 0x1_FC84;
/// DATA register.
pub const DATA: u32 = 0x1_FC88;
/// The key that opens the port.
pub const KEY: u32 = 0x1337_F7D1;

/// The port's state.
#[derive(Clone, Copy, Debug, Default)]
pub struct PmPort {
    /// Open (the key was written last).
    pub unlocked: bool,
    /// Where the next DATA word goes.
    pub addr: u32,
}

/// What a write of the port asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortWrite {
    /// Nothing more to do.
    Done,
    /// Store `word` at PM `addr`.
    Store {
        /// PM byte address.
        addr: u32,
        /// The word.
        word: u32,
    },
    /// DATA written while the port is locked: ignored (reported by the caller).
    Locked,
    /// Not a register of the port.
    Unmodelled,
}

impl PmPort {
    /// A 32-bit write of `value` at data address `addr` (already aligned).
    pub fn write(&mut self, addr: u32, value: u32) -> PortWrite {
        match addr {
            UNLOCK => self.unlocked = value == KEY,
            ADDR => self.addr = value,
            DATA if self.unlocked => {
                let at = self.addr & !3;
                self.addr = self.addr.wrapping_add(4);
                return PortWrite::Store {
                    addr: at,
                    word: value,
                };
            }
            DATA => return PortWrite::Locked,
            _ => return PortWrite::Unmodelled,
        }
        PortWrite::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_opens_the_port_and_data_words_advance_the_address() {
        let mut p = PmPort::default();
        assert_eq!(p.write(DATA, 1), PortWrite::Locked);
        assert_eq!(p.write(UNLOCK, KEY), PortWrite::Done);
        assert_eq!(p.write(ADDR, 0x100), PortWrite::Done);
        assert_eq!(
            p.write(DATA, 7),
            PortWrite::Store {
                addr: 0x100,
                word: 7
            }
        );
        assert_eq!(
            p.write(DATA, 8),
            PortWrite::Store {
                addr: 0x104,
                word: 8
            }
        );
        assert_eq!(p.write(UNLOCK, 0), PortWrite::Done);
        assert_eq!(p.write(DATA, 9), PortWrite::Locked);
        assert_eq!(p.write(0x1_FC8C, 9), PortWrite::Unmodelled);
    }
}
