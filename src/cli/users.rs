//! `raqib users`: the API's and dashboard's users, their passwords and tokens.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::Subcommand;

use raqib::store::Store;

use super::{bad, Ctx};

#[derive(Subcommand)]
pub enum UsersCmd {
    /// Add a user
    Add {
        name: String,
        /// viewer (reads), auditor (also probes and labels), admin (also manages users)
        #[arg(long, value_enum)]
        role: UserRole,
    },
    /// Remove a user and revoke their tokens and sessions
    Remove { name: String },
    /// Set a user's dashboard password (at least 12 characters), read from standard input
    /// (without echo on a terminal), never from the command line; ends their sessions
    Password { name: String },
    /// Make a new API token for a user: printed once, stored only as its SHA-256
    Token {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Users with their roles and token counts
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum UserRole {
    Viewer,
    Auditor,
    Admin,
}

pub async fn exec(ctx: &Ctx, cmd: UsersCmd) -> Result<()> {
    users_cmd(&ctx.store().await?, cmd).await
}

async fn users_cmd(store: &Store, cmd: UsersCmd) -> Result<()> {
    match cmd {
        UsersCmd::Add { name, role } => {
            if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
                return Err(bad("a user name is one word"));
            }
            let role = match role {
                UserRole::Viewer => "viewer",
                UserRole::Auditor => "auditor",
                UserRole::Admin => "admin",
            };
            if !store.add_user(&name, role).await? {
                return Err(bad(format!("user '{name}' exists")));
            }
            println!("user {name} added ({role})");
        }
        UsersCmd::Remove { name } => {
            if !store.remove_user(&name).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            println!("user {name} removed; their tokens no longer work");
        }
        UsersCmd::Password { name } => {
            if !store_has_user(store, &name).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            let password = read_password(&format!("password for {name}: "))?;
            let hashed = match raqib::server::auth::hash_password(&password) {
                Err(raqib::server::auth::AuthError::ShortPassword) => {
                    return Err(bad("a password has at least 12 characters"))
                }
                other => other?,
            };
            if !store.set_password(&name, &hashed).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            eprintln!("password of {name} set; their dashboard sessions ended");
        }
        UsersCmd::Token { name, json } => {
            let token = raqib::server::auth::new_secret("rq_")?;
            if !store.add_token(&name, &token).await? {
                return Err(bad(format!("no user '{name}'")));
            }
            if json {
                println!("{}", serde_json::json!({"user": name, "token": token}));
            } else {
                println!("{token}");
                eprintln!("(shown once: raqib keeps only its SHA-256)");
            }
        }
        UsersCmd::List { json } => {
            for u in store.users().await? {
                if json {
                    println!("{}", serde_json::to_string(&u)?);
                } else {
                    println!("{:<24} {:<8} {} tokens", u.name, u.role, u.tokens);
                }
            }
        }
    }
    Ok(())
}

async fn store_has_user(store: &Store, name: &str) -> Result<bool> {
    Ok(store.users().await?.iter().any(|u| u.name == name))
}

/// One line from standard input; on a terminal, prompted on stderr with echo off.
fn read_password(prompt: &str) -> Result<String> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    // SAFETY: termios calls on fd 0 with a zeroed struct filled by tcgetattr.
    let saved = tty.then(|| unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then(|| {
            let mut quiet = t;
            quiet.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &quiet);
            t
        })
    });
    if tty {
        eprint!("{prompt}");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(Some(t)) = saved {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        eprintln!();
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
