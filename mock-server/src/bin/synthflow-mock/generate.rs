//! `synthflow-mock generate`: writes realistic, self-consistent fixtures, reproducible from a seed
//! ([`synthflow_mock::tools::generate`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use synthflow_mock::tools::generate::{
    coverage_of, coverage_table, extend_shapes, generate, markdown_table, update_readme,
    write_tree, GenerateOptions,
};

/// Which shapes the calls take.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shapes {
    /// The vendor's document only (the default; what `fixtures/calls/` holds).
    #[default]
    Document,
    /// Also the off-document shapes seen live (string `duration`, JSON-encoded action values,
    /// both extractor key prefixes, string `judge_results`, Bubble-style ids): serve the result
    /// with `--allow-out-of-spec`. See docs/fidelity.md.
    Extended,
}

/// Flags of `generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Seed of the random stream: the same seed and count give byte-identical files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of random calls (after the coverage set with `--coverage`).
    #[arg(long, default_value_t = 0)]
    pub count: usize,
    /// Start with the smallest set covering every enum value and null/set of every nullable
    /// field, and print the coverage table reached.
    #[arg(long)]
    pub coverage: bool,
    /// Folder to write `calls/<call_id>.json` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing `DIR/calls` folder whole (stale files go too).
    #[arg(long)]
    pub replace: bool,
    /// Also rewrite the generated table of this markdown file (between its
    /// `<!-- generated calls: begin/end -->` markers).
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// `extended`: rewrite the calls into the off-document shapes the live service was seen
    /// sending (every four calls hold them all); serve them with `--allow-out-of-spec`.
    #[arg(long, value_enum, default_value = "document")]
    pub shapes: Shapes,
}

/// Runs `generate`.
pub fn run(args: &GenerateArgs) -> ExitCode {
    if args.count == 0 && !args.coverage {
        eprintln!("synthflow-mock: nothing to generate: give --count N and/or --coverage");
        return ExitCode::from(2);
    }
    let started = std::time::Instant::now();
    let mut files = generate(GenerateOptions {
        seed: args.seed,
        count: args.count,
        coverage: args.coverage,
    });
    if args.shapes == Shapes::Extended {
        files = extend_shapes(files);
    }
    let target = match write_tree(&args.out, &files, args.replace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("synthflow-mock: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if let Some(readme) = &args.readme {
        if let Err(e) = update_readme(readme, &markdown_table(&files)) {
            eprintln!("synthflow-mock: {e}");
            return ExitCode::from(2);
        }
    }
    if args.coverage {
        println!(
            "{}",
            coverage_table(&coverage_of(files.iter().map(|f| &f.call)))
        );
    }
    eprintln!(
        "synthflow-mock: wrote {} calls to {} in {secs:.2} s ({:.0} files/s)",
        files.len(),
        target.display(),
        files.len() as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}
