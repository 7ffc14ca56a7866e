//! raftlab: the MIT 6.5840 systems as pure state-transition functions.
