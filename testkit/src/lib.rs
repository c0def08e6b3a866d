//! The test kit of the operator's integration tests and benches: one way to do each thing a test needs.
//!
//! - [`plane`]: the real control plane (etcd, kube-apiserver, kube-controller-manager), shared by the tests
//!   of one binary, and the leak audit's records ([`plane::audit`]).
//! - [`env()`]: the CRDs installed and a fresh namespace per test; manifests read into objects.
//! - [`sim`]: simulator presets (the hand-written scenario, the default scenario's credentials) and Jira client
//!   configurations of the sync tests.
//! - [`settings`]: operator settings presets of the in-process controllers.
//! - [`Harness`]: one test's world (namespace, simulator, objects, waits) and [`InProcess`]: the controllers
//!   running in-process.
//! - [`OperatorProcess`]: the operator binary as a process (with the crash hook's environment).
//! - [`connection`]: the connection controller tests' specs, Secrets and polls by `(client, namespace)`.
//! - [`observed`]: conditions, phases and figures; [`wait`]: polling helpers.
//! - [`tools`]: helm and kubectl; [`leak`]: the credential finder; [`burst`], [`bench`]: what the benches
//!   measure; [`rng`]: seeded randomness.
//!
//! The README of this crate shows how to add an integration test.

pub mod bench;
pub mod burst;
pub mod connection;
mod env;
pub mod harness;
mod in_process;
pub mod leak;
pub mod objects;
pub mod observed;
pub mod policy;
pub mod process;
pub mod rng;
pub mod settings;
pub mod sim;
pub mod tools;
pub mod wait;

pub use env::{TestEnv, create, dynamic_api, env, parse_manifests, read_manifests, typed};
pub use harness::{Harness, action_object};
pub use in_process::{Controllers, InProcess};
pub use process::{Launch, OperatorProcess};
pub use rng::Rng;
pub use testenv as plane;
