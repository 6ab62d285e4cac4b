//! The `raqib` command line: parses arguments, runs the command (`cli`), prints the error if
//! there was one and picks the exit code.
//!
//! Exit codes: 0 the command ran (whatever the probes found), 2 bad input (arguments, config,
//! CSV, unknown centre), 1 raqib's own failure.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    // `raqib results | head` should end quietly when head closes the pipe, as Unix tools do,
    // not panic on the next print. Rust starts with SIGPIPE ignored; restore the default.
    // SAFETY: called before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    if let Err(e) = raqib::logs::init(args.log_format) {
        eprintln!("raqib: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("raqib: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raqib: {}", cli::message_of(&e));
            ExitCode::from(if cli::is_bad_input(&e) { 2 } else { 1 })
        }
    }
}
