//! Real runc and real CNI plugins as the oracles for what the runtime crate generates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod netlab;
mod network;
mod seccomp;
