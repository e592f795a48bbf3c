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

/// CPU nanoseconds so far of this process, threads that have ended included (utime +
/// stime of /proc/self/stat, in clock ticks of 10 ms: meaningful over whole runs only).
pub fn own_cpu_ns() -> u64 {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    rest.split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum::<u64>()
        * 10_000_000
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

/// The processes of one `wrangler dev` process group, by role, for CPU per process:
/// `worker` is the workerd that runs the Worker (miniflare's runtime instance: the user
/// Worker's isolate, miniflare's entry Worker, the static-assets router and asset Worker
/// when `[assets]` is configured, and the local D1/KV simulators; it is the one started
/// with an inspector address), `proxy` is wrangler's proxy workerd (the public port, in
/// front of the other), `wrangler` is wrangler's node processes (they forward the logs).
pub struct Roles {
    pub worker: Vec<i32>,
    pub proxy: Vec<i32>,
    pub wrangler: Vec<i32>,
}

/// CPU nanoseconds so far of each role.
#[derive(Clone, Copy, Default)]
pub struct RoleCpu {
    pub worker: u64,
    pub proxy: u64,
    pub wrangler: u64,
}

impl Roles {
    pub fn for_group(pgid: i32) -> Result<Self, String> {
        let mut roles = Self {
            worker: vec![],
            proxy: vec![],
            wrangler: vec![],
        };
        let entries = fs::read_dir("/proc").map_err(|e| format!("reading /proc: {e}"))?;
        for pid in entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        {
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
            if rest.split_whitespace().nth(2).and_then(|f| f.parse().ok()) != Some(pgid) {
                continue;
            }
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            match comm {
                "workerd" if cmdline.contains("--inspector-addr") => roles.worker.push(pid),
                "workerd" => roles.proxy.push(pid),
                "node" => roles.wrangler.push(pid),
                _ => {}
            }
        }
        if roles.worker.len() != 1 || roles.proxy.len() != 1 {
            return Err(format!(
                "process group {pgid}: expected one workerd with an inspector (the Worker) and \
                 one without (wrangler's proxy), found {} and {}",
                roles.worker.len(),
                roles.proxy.len()
            ));
        }
        Ok(roles)
    }

    pub fn cpu(&self) -> RoleCpu {
        let sum = |pids: &[i32]| pids.iter().map(|p| process_cpu_ns(*p)).sum();
        RoleCpu {
            worker: sum(&self.worker),
            proxy: sum(&self.proxy),
            wrangler: sum(&self.wrangler),
        }
    }
}

impl RoleCpu {
    pub fn since(self, start: RoleCpu) -> RoleCpu {
        RoleCpu {
            worker: self.worker.saturating_sub(start.worker),
            proxy: self.proxy.saturating_sub(start.proxy),
            wrangler: self.wrangler.saturating_sub(start.wrangler),
        }
    }

    pub fn add(&mut self, other: RoleCpu) {
        self.worker += other.worker;
        self.proxy += other.proxy;
        self.wrangler += other.wrangler;
    }
}
