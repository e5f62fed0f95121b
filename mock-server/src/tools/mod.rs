//! The offline tools: everything the `synthflow-mock` binary does besides serving.
//!
//! - [`generate`] writes realistic, self-consistent fixtures, reproducible from a seed;
//! - `record` (feature `online`) records fixtures from the live API (a proxy, or bulk from a list of ids), and
//!   [`redact`] takes the personal data out of what it records;
//! - [`validate`] checks fixture files with the same contract checks the server runs at start-up;
//! - [`atomic_file`] writes a file so that no reader ever sees it half-written.
//!
//! They live apart from the HTTP layers because they are not on the request path: nothing the
//! server does at run time calls them, they only read and write fixture folders (and `record`
//! talks to the upstream). Keeping them here means a change to a tool cannot touch how a request is
//! answered, and the folders of the crate show which code serves and which code prepares the data
//! it serves. They are plain functions and option structs with typed errors; the command-line
//! flags that drive them live in the binary (`src/bin/synthflow-mock/`), one file per subcommand.

//!
//! Without the `tools` feature only [`generate`]'s call factory is compiled, crate-private: it
//! makes the calls of `POST /v2/calls` in a slim build too.

#[cfg(feature = "tools")]
pub mod atomic_file;
pub mod generate;
#[cfg(feature = "online")]
pub mod record;
#[cfg(feature = "tools")]
pub mod redact;
#[cfg(feature = "tools")]
pub mod validate;
