//! `run --gdb`: the machine under gdb's remote protocol.

use anyhow::{Context, Result};
use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::gdb::{self, DebugTarget, Outcome, ServeOptions};
use ft900_sim::profile::ft900::cycles_to_ns;
use ft900_sim::{Machine, Profile};
use net_bridge::Pacer;

/// Serves gdb on `spec` (`[ADDR:]PORT`) until the program ends or gdb kills it; `monitor
/// reset` reloads the program as it was loaded. With `realtime`, virtual time is paced to the
/// wall clock while the program runs.
pub fn serve<P: Profile>(
    m: &mut Machine<P>,
    program: &Program,
    policy: LoadPolicy,
    spec: &str,
    wait: bool,
    realtime: bool,
) -> Result<Outcome> {
    let options = ServeOptions {
        addr: gdb::parse_listen_addr(spec)
            .map_err(anyhow::Error::msg)
            .context("--gdb")?,
        wait,
    };
    // `monitor reset`: reload the program as it was loaded, then reset the profile.
    let reset = move |m: &mut Machine<P>| -> Result<(), String> {
        program
            .load_into(&mut m.core, policy)
            .map_err(|e| e.to_string())?;
        m.profile.reset(&mut m.core, program.entry);
        Ok(())
    };
    let now = cycles_to_ns(m.core.cycles);
    let mut target = DebugTarget::new(m).with_reset(Box::new(reset));
    if realtime {
        target = target.with_pacer(Pacer::wall(now));
        eprintln!("gdb: paced to the wall clock; a halt in gdb is not made up on resume");
    }
    gdb::serve(&mut target, &options).context("--gdb")
}
