//! CPU time of the processes serving the Worker, read from procfs (Linux).
//!
//! `wrangler dev` is started in its own process group; its `workerd` child runs the Worker
//! *and* the local D1 (SQLite) and KV simulators. Summing `schedstat` (nanoseconds on CPU)
//! over every thread of every `workerd` in that group before and after a request gives the
//! CPU that request cost the runtime, independent of how busy the client is.

use std::fs;

pub struct CpuProbe {
    pgid: i32,
    pids: Vec<i32>,
}

impl CpuProbe {
    /// The `workerd` processes in process group `pgid`; None when there are none (or no procfs).
    pub fn for_group(pgid: i32) -> Option<Self> {
        let mut probe = Self { pgid, pids: vec![] };
        probe.refresh();
        (!probe.pids.is_empty()).then_some(probe)
    }

    fn refresh(&mut self) {
        let Ok(entries) = fs::read_dir("/proc") else {
            return;
        };
        self.pids = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                    return false;
                };
                let Some((head, rest)) = stat.rsplit_once(')') else {
                    return false;
                };
                let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
                let pgrp = rest.split_whitespace().nth(2).and_then(|f| f.parse().ok());
                comm == "workerd" && pgrp == Some(self.pgid)
            })
            .collect();
    }

    pub fn pids(&self) -> &[i32] {
        &self.pids
    }

    /// Total CPU nanoseconds of all threads of the probed processes so far.
    pub fn cpu_ns(&self) -> u64 {
        self.pids.iter().map(|pid| process_cpu_ns(*pid)).sum()
    }
}

fn process_cpu_ns(pid: i32) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .map(|t| {
            fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}
