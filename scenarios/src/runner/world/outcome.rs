//! What a run left behind: each device's stop, counters, host time and UART output, and the
//! world's (the endpoint with its tables and request log, virtual and host time, the pcap).

use std::path::PathBuf;
use std::time::Duration;

use ft900_sim::profiler::Report;
use ft900_sim::StopReason;
use net_bridge::Nanos;

use crate::endpoint::Endpoint;

/// What one device did.
#[derive(Debug, Clone)]
pub struct DeviceOutcome {
    /// Its id.
    pub id: String,
    /// How it stopped; `None` if it still ran at the scenario's time limit.
    pub stop: Option<StopReason>,
    /// A fault report (PC, symbol, registers), if it faulted.
    pub fault_report: Option<String>,
    /// Virtual ns when it stopped (or the limit).
    pub end_ns: Nanos,
    /// CPU cycles when it stopped (or the limit).
    pub cycles: u64,
    /// Instructions executed, counting the iterations of idle loops (`jmp .`) that the
    /// simulator skipped (the counters end as if it had run them).
    pub insns: u64,
    /// Of `insns`, the idle-loop iterations skipped.
    pub idle_insns: u64,
    /// Host time spent running this device's CPU (its share of the run; a fleet's devices run
    /// in parallel, so these add up to more than the run's host time with `jobs` > 1).
    pub host: Duration,
    /// UART0 output.
    pub uart: Vec<u8>,
    /// Virtual ns at which each byte of `uart` left the UART.
    pub uart_times: Vec<u64>,
}

#[cfg(test)]
impl DeviceOutcome {
    /// A device that exited 0 after printing `uart`, byte i leaving at `uart_times[i]` (the
    /// expectation checks' unit tests).
    pub(crate) fn exited_with_uart(id: &str, uart: Vec<u8>, uart_times: Vec<u64>) -> Self {
        DeviceOutcome {
            id: id.into(),
            stop: Some(StopReason::Exited(0)),
            fault_report: None,
            end_ns: 0,
            cycles: 0,
            insns: 0,
            idle_insns: 0,
            host: Duration::ZERO,
            uart,
            uart_times,
        }
    }
}

impl DeviceOutcome {
    /// UART0 lines with the virtual time (ns) of their first byte.
    pub fn lines(&self) -> Vec<(Nanos, String)> {
        let text = String::from_utf8_lossy(&self.uart);
        let mut offset = 0;
        let mut out = Vec::new();
        for line in text.split_inclusive('\n') {
            let t = self.uart_times.get(offset).copied().unwrap_or(0);
            out.push((t, line.trim_end_matches(['\r', '\n']).to_string()));
            offset += line.len();
        }
        out
    }
}

/// What a run left behind.
pub struct WorldOutcome {
    /// Every device, in the scenario's order.
    pub devices: Vec<DeviceOutcome>,
    /// The endpoint (tables and request log).
    pub endpoint: Endpoint,
    /// Virtual time at the end.
    pub virtual_ns: Nanos,
    /// Host time the run took (wall clock).
    pub host: Duration,
    /// CPU time the run took, all threads together.
    pub cpu: Duration,
    /// The run's span in CPU time: what it takes on cores of its own (see
    /// [`crate::runner::lockstep`]); the host-time figure that does not depend on what else the host
    /// runs. A single device's span is its thread's CPU time.
    pub span: Duration,
    /// Host threads the devices ran on.
    pub threads: usize,
    /// The pcap file, if a network was attached.
    pub pcap: Option<PathBuf>,
    /// The profile of the device asked for with [`RunOptions::profile`](super::RunOptions::profile).
    pub profile: Option<Report>,
    /// Which device (index) `profile` is of.
    pub profiled_device: Option<usize>,
}

impl WorldOutcome {
    /// Instructions executed by all devices.
    pub fn insns(&self) -> u64 {
        self.devices.iter().map(|d| d.insns).sum()
    }

    /// Instructions the interpreter really ran (idle-loop iterations skipped not counted).
    pub fn busy_insns(&self) -> u64 {
        self.devices
            .iter()
            .map(|d| d.insns.saturating_sub(d.idle_insns))
            .sum()
    }

    /// Busy instructions per microsecond of the span: the simulator's speed on this run,
    /// measured in CPU time (see [`WorldOutcome::span`]).
    pub fn busy_mips_cpu(&self) -> f64 {
        crate::runner::table::mips(self.busy_insns(), self.span.as_secs_f64())
    }
}
