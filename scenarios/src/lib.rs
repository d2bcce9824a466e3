//! Scripted end-to-end scenarios and a local DynamoDB-compatible endpoint.
//!
//! Empty until the scenarios issue lands; see `../shared/DESIGN.md` for what goes here.
