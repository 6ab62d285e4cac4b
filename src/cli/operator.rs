//! What an operator runs around the service: `config check`, `completions SHELL` and `man`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{Cli, Ctx};

#[derive(clap::Subcommand)]
pub enum ConfigCmd {
    /// Read the config as `serve` would and print the effective configuration (every default
    /// filled in) with secrets redacted; exit 2 with FILE:LINE when it is wrong
    Check {
        /// One JSON object instead of TOML
        #[arg(long)]
        json: bool,
    },
}

pub const CONFIG_HELP: &str = "\
Secrets never sit in the config (passwords come from the environment variables its *_env keys
name); still, URLs are shown as raqib's logs show them: user information as ***, a webhook's
path (where Slack and Teams keep their secret) as /… with a fingerprint.

Exit codes: 0 the config is good, 2 it is not (the message names FILE:LINE:COLUMN).";

pub fn config(ctx: &Ctx, cmd: ConfigCmd, source: &str) -> Result<()> {
    let ConfigCmd::Check { json } = cmd;
    // What serve refuses at start, refused here too, so that a check that passes means serve
    // starts.
    super::serve::startable(&ctx.config)?;
    let mut value = toml::Value::try_from(&ctx.config).context("the config as TOML")?;
    redact(None, &mut value);
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", toml::to_string_pretty(&value)?);
    }
    eprintln!("config check: {source}: good");
    Ok(())
}

/// Replaces every secret-bearing value: URLs with user information, webhook addresses, and a
/// key named like a secret that is not the name of an environment variable.
fn redact(key: Option<&str>, v: &mut toml::Value) {
    match v {
        toml::Value::String(s) => {
            let secret_key = key.is_some_and(|k| {
                let k = k.to_ascii_lowercase();
                ["password", "secret", "token"]
                    .iter()
                    .any(|w| k.contains(w))
                    && !k.ends_with("_env")
            });
            *s = if secret_key {
                "***".to_string()
            } else if key == Some("webhook") {
                raqib::redact::webhook(s)
            } else {
                raqib::redact::url(s)
            };
        }
        toml::Value::Array(items) => items.iter_mut().for_each(|i| redact(key, i)),
        toml::Value::Table(t) => t.iter_mut().for_each(|(k, i)| redact(Some(k), i)),
        _ => {}
    }
}

/// Where the config came from, as `config check` says it.
pub fn source_of(cli_config: Option<&std::path::Path>) -> String {
    match cli_config {
        Some(p) => p.display().to_string(),
        None => {
            let p = PathBuf::from(raqib::config::DEFAULT_PATH);
            match p.is_file() {
                true => p.display().to_string(),
                false => "the embedded default".into(),
            }
        }
    }
}

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    pub shell: clap_complete::Shell,
}

pub const COMPLETIONS_HELP: &str = "\
Install, e.g.:
  raqib completions bash > /etc/bash_completion.d/raqib
  raqib completions zsh > /usr/local/share/zsh/site-functions/_raqib
  raqib completions fish > ~/.config/fish/completions/raqib.fish";

pub fn completions(args: CompletionsArgs) {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "raqib",
        &mut std::io::stdout(),
    );
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Write raqib.1 and one page per command (raqib-serve.1, …) into this directory instead
    /// of printing raqib.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub const MAN_HELP: &str = "\
Install, e.g.:
  raqib man --dir /usr/local/share/man/man1 && mandb -q
  raqib man | man -l -";

pub fn man(args: ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match args.dir {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?,
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write the pages to {}", dir.display()))?;
            eprintln!("man pages written to {}", dir.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_env_names_kept() {
        let mut v: toml::Value = toml::from_str(
            "[store]\nurl = \"postgres://raqib:pw@db/raqib\"\npassword_env = \"PGPASS\"\n\
             [alerts]\n[[alerts.contact]]\nwebhook = \"https://hooks.example/T0/B0/sEcReT\"\n\
             [x]\napi_token = \"tok\"\n",
        )
        .unwrap();
        redact(None, &mut v);
        let text = toml::to_string(&v).unwrap();
        assert!(!text.contains("pw@") && !text.contains("sEcReT") && !text.contains("tok\""));
        assert!(text.contains("PGPASS"), "{text}");
        assert!(text.contains("postgres://***@db/raqib"), "{text}");
    }
}
