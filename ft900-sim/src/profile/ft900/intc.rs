//! The interrupt controller, 0x100C0–0x100FF (AN_324 §6; docs/hardware/interrupts.md), and the
//! rules by which the CPU takes interrupts: priorities, the global mask, nesting.
//!
//! The CPU takes vector `0x08 + 4·p` where `p` is the priority assigned to the winning input
//! (the SDK's `interrupt_attach` stores handlers in `vector_table[p]`). Entry pushes only the
//! return address; `reti` leaves the innermost in-service level.

use super::device::Access;
use super::regs::intc as reg;
use crate::isa::Width;

/// The priority bytes, one per input (IRQ00-03 Assignment .. IRQ28-31 Assignment).
const PRIORITIES: std::ops::RangeInclusive<u32> = reg::IRQ00_03..=reg::IRQ28_31 + 3;
/// The bytes of IRQ Control.
const CONTROL: std::ops::RangeInclusive<u32> = reg::CONTROL..=reg::CONTROL + 3;

/// Input 0 (power management) is not blocked by the global mask.
const NON_MASKABLE: u32 = 1 << 0;
/// IRQ Control: global mask (1 = everything but input 0 masked).
const GLOBAL_MASK: u32 = 1 << 31;
/// IRQ Control: nested interrupts enabled.
const NEST_ENABLE: u32 = 1 << 7;
/// IRQ Control: bits kept.
const CONTROL_BITS: u32 = GLOBAL_MASK | NEST_ENABLE | 0xF;
/// PM address of the watchdog vector.
pub const WATCHDOG_VECTOR: u32 = 0x04;
/// In-service marker of the watchdog entry (outside the 0..31 priority range).
const WATCHDOG_LEVEL: u8 = 0xFF;

/// Priority assignments, control word and the in-service stack.
pub struct Intc {
    priority: [u8; 32],
    control: u32,
    /// Levels in service, innermost last.
    in_service: Vec<u8>,
    /// Interrupts taken per input, for statistics.
    taken: [u64; 32],
    watchdog_taken: u64,
}

impl Default for Intc {
    fn default() -> Self {
        Self::new()
    }
}

impl Intc {
    /// Power-on state: input k has priority k, everything masked, nesting off.
    pub fn new() -> Intc {
        Intc {
            priority: std::array::from_fn(|k| k as u8),
            control: GLOBAL_MASK,
            in_service: Vec::new(),
            taken: [0; 32],
            watchdog_taken: 0,
        }
    }

    /// Back to power-on (statistics are kept).
    pub fn reset(&mut self) {
        self.priority = std::array::from_fn(|k| k as u8);
        self.control = GLOBAL_MASK;
        self.in_service.clear();
    }

    /// `true` while the global mask is set.
    pub fn masked(&self) -> bool {
        self.control & GLOBAL_MASK != 0
    }

    /// Levels currently in service (innermost last; 0xFF = watchdog).
    pub fn in_service(&self) -> &[u8] {
        &self.in_service
    }

    /// Reads a register; `offset` relative to 0x100C0, aligned to `width`.
    pub fn read(&self, offset: u32, width: Width) -> Access<u32> {
        let mut v = 0u32;
        for i in 0..width.bytes() {
            let o = offset + i;
            let byte = match o {
                o if PRIORITIES.contains(&o) => self.priority[(o - reg::IRQ00_03) as usize],
                o if CONTROL.contains(&o) => (self.control >> (8 * (o - reg::CONTROL))) as u8,
                _ => return Access::Unmodelled,
            };
            v |= (byte as u32) << (8 * i);
        }
        Access::Done(v)
    }

    /// Writes a register.
    pub fn write(&mut self, offset: u32, width: Width, value: u32) -> Access<()> {
        for i in 0..width.bytes() {
            let o = offset + i;
            let byte = (value >> (8 * i)) as u8;
            match o {
                o if PRIORITIES.contains(&o) => {
                    self.priority[(o - reg::IRQ00_03) as usize] = byte & 0x1F
                }
                o if CONTROL.contains(&o) => {
                    let shift = 8 * (o - reg::CONTROL);
                    let mask = 0xFFu32 << shift;
                    self.control =
                        ((self.control & !mask) | ((byte as u32) << shift)) & CONTROL_BITS;
                }
                _ => return Access::Unmodelled,
            }
        }
        Access::Done(())
    }

    /// Chooses the interrupt to take now, given the request lines (bit k = input k requests)
    /// and the watchdog's request. Records it as in service and returns its vector address.
    pub fn select(&mut self, lines: u32, watchdog: bool) -> Option<u32> {
        if watchdog && !self.in_service.contains(&WATCHDOG_LEVEL) {
            self.in_service.push(WATCHDOG_LEVEL);
            self.watchdog_taken += 1;
            return Some(WATCHDOG_VECTOR);
        }
        let eligible = if self.masked() {
            lines & NON_MASKABLE
        } else {
            lines
        };
        if eligible == 0 {
            return None;
        }
        // Lowest priority value wins; ties go to the lowest input number.
        let (input, level) = (0..32u32)
            .filter(|k| eligible & (1 << k) != 0)
            .map(|k| (k, self.priority[k as usize] & 0x1F))
            .min_by_key(|&(k, p)| (p, k))?;
        if let Some(&current) = self.in_service.last() {
            let nesting = self.control & NEST_ENABLE != 0;
            let max_levels = (self.control & 0xF) as usize + 1;
            if !nesting || self.in_service.len() >= max_levels || level >= current {
                return None;
            }
        }
        self.in_service.push(level);
        self.taken[input as usize] += 1;
        Some(0x08 + 4 * level as u32)
    }

    /// `reti`: the innermost level is over (no effect when nothing is in service).
    pub fn end_of_interrupt(&mut self) {
        self.in_service.pop();
    }

    /// Statistics: interrupts taken per input that fired at least once, and watchdog entries.
    pub fn stats(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = (0..32)
            .filter(|&k| self.taken[k] > 0)
            .map(|k| (format!("irq{k}"), self.taken[k]))
            .collect();
        if self.watchdog_taken > 0 {
            v.push(("watchdog".to_string(), self.watchdog_taken));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmasked() -> Intc {
        let mut i = Intc::new();
        i.write(0x23, Width::Byte, 0x00);
        i
    }

    #[test]
    fn reset_values() {
        let i = Intc::new();
        assert_eq!(i.read(0x00, Width::Word), Access::Done(0x0302_0100));
        assert_eq!(i.read(0x1C, Width::Word), Access::Done(0x1F1E_1D1C));
        assert_eq!(i.read(0x20, Width::Word), Access::Done(0x8000_0000));
        assert_eq!(i.read(0x23, Width::Byte), Access::Done(0x80));
        assert_eq!(i.read(0x24, Width::Word), Access::Unmodelled);
    }

    #[test]
    fn global_mask_blocks_all_but_input_0() {
        let mut i = Intc::new();
        assert_eq!(i.select(1 << 17, false), None);
        assert_eq!(i.select(1 << 0 | 1 << 17, false), Some(0x08));
        i.end_of_interrupt();
        i.write(0x23, Width::Byte, 0);
        assert_eq!(i.select(1 << 17, false), Some(0x08 + 4 * 17));
    }

    #[test]
    fn vector_follows_the_assigned_priority() {
        let mut i = unmasked();
        i.write(17, Width::Byte, 5); // IRQ 17 at priority 5
        assert_eq!(i.select(1 << 17, false), Some(0x08 + 4 * 5));
    }

    #[test]
    fn lowest_priority_value_wins_then_lowest_input() {
        let mut i = unmasked();
        i.write(13, Width::Byte, 2);
        i.write(3, Width::Byte, 2);
        assert_eq!(i.select(1 << 13 | 1 << 17 | 1 << 3, false), Some(0x08 + 8));
        assert_eq!(i.stats(), vec![("irq3".to_string(), 1)]);
    }

    #[test]
    fn without_nesting_nothing_interrupts_a_handler() {
        let mut i = unmasked();
        assert_eq!(i.select(1 << 17, false), Some(0x08 + 4 * 17));
        assert_eq!(
            i.select(1 << 3, false),
            None,
            "higher priority waits: nesting off"
        );
        i.end_of_interrupt();
        assert_eq!(i.select(1 << 3, false), Some(0x08 + 4 * 3));
    }

    #[test]
    fn nesting_takes_only_strictly_higher_priority_up_to_the_depth() {
        let mut i = Intc::new();
        i.write(0x20, Width::Byte, 0x80 | 1); // nest enable, depth 1 -> 2 levels
        i.write(0x23, Width::Byte, 0);
        assert_eq!(i.select(1 << 17, false), Some(0x08 + 4 * 17));
        assert_eq!(i.select(1 << 19, false), None, "lower priority waits");
        assert_eq!(i.select(1 << 17, false), None, "same priority waits");
        assert_eq!(i.select(1 << 13, false), Some(0x08 + 4 * 13));
        assert_eq!(
            i.select(1 << 3, false),
            None,
            "depth 1 allows two levels only"
        );
        i.end_of_interrupt();
        assert_eq!(i.select(1 << 3, false), Some(0x08 + 4 * 3));
        assert_eq!(i.in_service(), &[17, 3]);
    }

    #[test]
    fn watchdog_ignores_the_mask_and_enters_once() {
        let mut i = Intc::new();
        assert_eq!(i.select(0, true), Some(WATCHDOG_VECTOR));
        assert_eq!(i.select(0, true), None, "already in the watchdog handler");
        i.end_of_interrupt();
        assert_eq!(i.select(0, true), Some(WATCHDOG_VECTOR));
    }

    #[test]
    fn control_keeps_only_defined_bits() {
        let mut i = Intc::new();
        i.write(0x20, Width::Word, 0xFFFF_FFFF);
        assert_eq!(i.read(0x20, Width::Word), Access::Done(CONTROL_BITS));
    }
}
