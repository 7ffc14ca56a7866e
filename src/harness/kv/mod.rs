//! The key/value labs' test configurations on the simulator: Lab 2 (kvsrv/config.go),
//! Lab 4 ([`KvraftConfig`], the replicated-service configuration over the key/value
//! store), the clerks' key/value operations, and the recorded histories.

pub mod chaos;
pub mod ck;
pub mod history;
pub mod kvsrv;

use crate::harness::rsm::world::{RsmClerk, RsmConfig};
use crate::kv::store::KvStore;

/// The Lab 4 test configuration.
pub type KvraftConfig = RsmConfig<KvStore>;

/// A Lab 4 clerk handle.
pub type KvraftClerk = RsmClerk<KvStore>;

pub use crate::harness::rsm::world::RsmOptions as KvraftOptions;
