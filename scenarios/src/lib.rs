//! Scripted end-to-end scenarios and a local DynamoDB-compatible endpoint.
//!
//! [`endpoint`] is the DynamoDB endpoint (SigV4, TLS, in-process on virtual time and
//! standalone); [`runner`] reads scenario files, runs fleets of simulated FT900s against it
//! through the user-mode gateway, and checks what happened (see `docs/design.md`).

#![warn(missing_docs)]

pub mod endpoint;
pub mod runner;
