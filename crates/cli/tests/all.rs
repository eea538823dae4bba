//! End-to-end tests of Steward: the real binary's wiring against the Graph simulator on loopback,
//! a real SQLite file, the policy engine and the builtin reasoner. Every test checks the tenant's
//! state afterwards by reading it back through Graph, as an admin would.

mod suite;
