//! Scripted end-to-end scenarios and a local DynamoDB-compatible endpoint.
//!
//! [`endpoint`] is the DynamoDB endpoint (SigV4, TLS, in-process on virtual time and
//! standalone); the scenario runner comes later (see `../shared/DESIGN.md`).

#![warn(missing_docs)]

pub mod endpoint;
