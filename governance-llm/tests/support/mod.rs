//! Helpers shared by the tests of this crate.

pub mod scripted_server;
