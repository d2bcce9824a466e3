//! The GPIO pins as the outside sees them: what each pin does (input, driven output, a special
//! function), the LEDs a board wires to pins, and a watcher that reports pin changes with the
//! virtual time (`--trace gpio`) and lists the pins for the debugger (`monitor io gpio`).
//!
//! A pin drives a level when its pad function is GPIO (pad byte bits 7:6 = 00) and its GPIO
//! nibble says output (bits 3:2 = 01) or open drain (1x: only a 0 is driven, a 1 floats); the
//! level is its bit of GPIO_VALUE (FT900-HARDWARE.md §5.4, §5.5).

use super::sys::Sys;

/// Pins of the FT900 (GPIO0..GPIO66).
pub const PINS: usize = 67;

/// What a pin does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinState {
    /// GPIO input (nothing outside drives it in the model).
    Input,
    /// GPIO output driving this level.
    Output(bool),
    /// Open-drain output: `false` pulls low, `true` floats.
    OpenDrain(bool),
    /// A special function (pad function 1..3): the peripheral owns the pin.
    Special(u8),
}

impl PinState {
    /// The level on the pin when something drives it.
    pub fn driven(self) -> Option<bool> {
        match self {
            PinState::Output(v) => Some(v),
            PinState::OpenDrain(false) => Some(false),
            _ => None,
        }
    }

    fn describe(self) -> String {
        match self {
            PinState::Input => "input".into(),
            PinState::Output(v) => format!("output {}", u8::from(v)),
            PinState::OpenDrain(false) => "open-drain 0".into(),
            PinState::OpenDrain(true) => "open-drain released".into(),
            PinState::Special(f) => format!("function {f}"),
        }
    }
}

/// Pin `n`'s state from the system registers.
pub fn pin_state(sys: &Sys, n: usize) -> PinState {
    let Some((pad, cfg, value)) = sys.pin(n) else {
        return PinState::Input;
    };
    match (pad >> 6, cfg >> 2) {
        (0, 0) => PinState::Input,
        (0, 1) => PinState::Output(value),
        (0, _) => PinState::OpenDrain(value),
        (f, _) => PinState::Special(f),
    }
}

/// An LED a board wires to a pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Led {
    /// Its name on the board, e.g. `LED1`.
    pub name: String,
    /// The GPIO pin.
    pub pin: u8,
    /// Lit when the pin is low.
    pub active_low: bool,
}

impl Led {
    /// Whether the LED is lit in `state`; `None` when the pin drives nothing.
    pub fn lit(&self, state: PinState) -> Option<bool> {
        state.driven().map(|level| level != self.active_low)
    }
}

/// A pin that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpioChange {
    /// CPU cycle of the write that changed it.
    pub cycle: u64,
    /// PC of that write.
    pub pc: u32,
    /// The pin.
    pub pin: u8,
    /// Before and after.
    pub from: PinState,
    /// After.
    pub to: PinState,
    /// `LED1 on` when a board's LED sits on the pin.
    pub led: Option<String>,
}

impl GpioChange {
    /// One line: `gpio18 output 0 -> output 1 (LED1 on)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "gpio{} {} -> {}",
            self.pin,
            self.from.describe(),
            self.to.describe()
        );
        if let Some(led) = &self.led {
            s.push_str(&format!(" ({led})"));
        }
        s
    }
}

/// Where pin changes go.
pub type GpioObserver = Box<dyn FnMut(&GpioChange) + Send>;

/// The board's LEDs, the last pin states and the observer of changes.
#[derive(Default)]
pub struct GpioWatch {
    leds: Vec<Led>,
    last: Vec<PinState>,
    observer: Option<GpioObserver>,
}

impl GpioWatch {
    /// Names LEDs on pins.
    pub fn set_leds(&mut self, leds: Vec<Led>) {
        self.leds = leds;
    }

    /// The LEDs.
    pub fn leds(&self) -> &[Led] {
        &self.leds
    }

    /// Sends every later pin change to `observer`.
    pub fn observe(&mut self, observer: GpioObserver) {
        self.observer = Some(observer);
    }

    /// Whether anybody listens (the bus skips the comparison otherwise).
    pub fn observing(&self) -> bool {
        self.observer.is_some()
    }

    /// Takes the current states as the reference (reset), without reporting.
    pub fn sync(&mut self, sys: &Sys) {
        self.last = (0..PINS).map(|n| pin_state(sys, n)).collect();
    }

    /// After a write of the system registers: reports the pins that changed.
    pub fn check(&mut self, sys: &Sys, cycle: u64, pc: u32) {
        let Some(observer) = self.observer.as_mut() else {
            return;
        };
        if self.last.len() != PINS {
            self.last = vec![PinState::Input; PINS];
        }
        for n in 0..PINS {
            let now = pin_state(sys, n);
            let before = self.last[n];
            if now == before {
                continue;
            }
            self.last[n] = now;
            let led =
                self.leds
                    .iter()
                    .find(|l| usize::from(l.pin) == n)
                    .map(|l| match l.lit(now) {
                        Some(true) => format!("{} on", l.name),
                        Some(false) => format!("{} off", l.name),
                        None => format!("{} not driven", l.name),
                    });
            observer(&GpioChange {
                cycle,
                pc,
                pin: n as u8,
                from: before,
                to: now,
                led,
            });
        }
    }

    /// The debugger's view: one line per pin that is not a plain input, or that has an LED.
    pub fn describe(&self, sys: &Sys) -> Vec<String> {
        let mut lines = Vec::new();
        for n in 0..PINS {
            let state = pin_state(sys, n);
            let led = self.leds.iter().find(|l| usize::from(l.pin) == n);
            if state == PinState::Input && led.is_none() {
                continue;
            }
            let mut line = format!("gpio{n:<2} {}", state.describe());
            if let Some(l) = led {
                let lit = match l.lit(state) {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "not driven",
                };
                line.push_str(&format!(
                    "  {} {lit}{}",
                    l.name,
                    if l.active_low { " (active low)" } else { "" }
                ));
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push("every pin is a GPIO input (reset state)".into());
        }
        lines
    }
}
