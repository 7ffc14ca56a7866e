//! raftlab-models: stateright models over the same pure cores that the simulator and
//! the lab suite drive (issue 4 builds them out).
