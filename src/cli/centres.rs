//! `raqib centres import` and `centres list`: the registry.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use raqib::registry;

use super::print::print_centres;
use super::Ctx;

#[derive(Subcommand)]
pub enum CentresCmd {
    /// Load centres from a CSV file (all rows or none); existing ids are updated
    Import {
        /// CSV with columns id,name_ar,name_en,agency,region,timezone,hours,phones,websites[,tags]
        file: PathBuf,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the registry
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

pub async fn exec(ctx: &Ctx, cmd: CentresCmd) -> Result<()> {
    match cmd {
        CentresCmd::Import { file, json } => {
            let centres = match registry::read_csv(&file) {
                Err(registry::RegistryError::Rows { path, rows }) if json => {
                    println!(
                        "{}",
                        serde_json::json!({"file": path, "imported": 0, "bad_rows": rows})
                    );
                    return Err(registry::RegistryError::Rows { path, rows }.into());
                }
                other => other?,
            };
            let store = ctx.store().await?;
            let counts = store.upsert_centres(&centres).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"file": file, "added": counts.added, "updated": counts.updated})
                );
            } else {
                println!(
                    "{}: {} centres imported ({} added, {} updated)",
                    file.display(),
                    centres.len(),
                    counts.added,
                    counts.updated
                );
            }
        }
        CentresCmd::List { json } => {
            let centres = ctx.store().await?.centres().await?;
            if json {
                for c in &centres {
                    println!("{}", serde_json::to_string(c)?);
                }
            } else {
                print_centres(&centres);
            }
        }
    }
    Ok(())
}
