//! The mock's integration tests, as one test binary (one link instead of one per file). Each module
//! pins one area; `support` holds the helpers they share.

mod support;

mod admin;
mod agents;
mod bad_input;
mod calls_you;
mod cli;
mod cli_scenarios;
mod console;
mod drift;
mod expectations;
mod fast_path;
mod faults;
mod fidelity;
mod fuzz_corpus;
mod generate;
mod hardening;
mod http;
mod integrator_loop;
mod layout;
mod list;
mod made_call_store;
mod make_call;
mod mocks;
mod outgoing;
mod props;
mod record;
mod reload;
mod request_line;
mod scenarios;
mod shutdown;
mod speed;
mod webhook;
