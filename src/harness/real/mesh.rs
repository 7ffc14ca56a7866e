//! The network between real servers: a fault proxy ([`crate::runtime::proxy::Proxy`])
//! for each ordered pair, `P(i, j)` between server `i` and server `j`'s peer listener,
//! so that each direction of each pair can be cut, slowed or made lossy on its own.

use std::net::SocketAddr;

use crate::runtime::proxy::{Faults, Proxy, ProxyStats};
use crate::runtime::wire::DEFAULT_MAX_FRAME;

/// The proxies: `P(i, j)` carries everything server `i` sends to server `j`.
pub struct Mesh {
    n: usize,
    proxies: Vec<Option<Proxy>>,
}

impl Mesh {
    /// Binds a proxy for every ordered pair of the servers listening at `listens`,
    /// inside `rt`.
    pub fn new(
        rt: &tokio::runtime::Runtime,
        listens: &[SocketAddr],
        seed: u64,
    ) -> std::io::Result<Mesh> {
        let n = listens.len();
        let mut proxies = Vec::with_capacity(n * n);
        for i in 0..n {
            for (j, &target) in listens.iter().enumerate() {
                if i == j {
                    proxies.push(None);
                    continue;
                }
                let local = SocketAddr::from(([127, 0, 0, 1], 0));
                let p = rt.block_on(Proxy::bind(
                    local,
                    target,
                    DEFAULT_MAX_FRAME,
                    seed ^ ((i * n + j) as u64).wrapping_mul(0x9e37_79b9),
                ))?;
                proxies.push(Some(p));
            }
        }
        Ok(Mesh { n, proxies })
    }

    /// The address of `P(i, j)`.
    pub fn addr(&self, i: usize, j: usize) -> SocketAddr {
        match &self.proxies[i * self.n + j] {
            Some(p) => p.addr(),
            None => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Puts `f` in force on `P(i, j)` (nothing for `i == j`).
    pub fn set(&self, i: usize, j: usize, f: Faults) {
        if let Some(p) = &self.proxies[i * self.n + j] {
            p.set(f);
        }
    }

    /// Clears every fault.
    pub fn heal(&self) {
        for p in self.proxies.iter().flatten() {
            p.set(Faults::NONE);
        }
    }

    /// Frames dropped or swallowed, and forwarded, over every proxy.
    pub fn frames(&self) -> (u64, u64) {
        self.proxies.iter().flatten().fold((0, 0), |(d, f), p| {
            let s = p.stats();
            (d + s.dropped, f + s.forwarded)
        })
    }

    /// What `P(i, j)` forwarded so far (nothing for `i == j`).
    pub fn stats(&self, i: usize, j: usize) -> ProxyStats {
        self.proxies[i * self.n + j]
            .as_ref()
            .map(Proxy::stats)
            .unwrap_or_default()
    }
}
