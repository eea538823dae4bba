//! The simulator over real HTTP on loopback, checked against the vendor's description.

mod suite;
