//! The Lab 3 (Raft) suite on the simulator.
