//! The `certverify` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::{self, AccountKind};
use crate::auth::keys;
use crate::auth::password::PasswordHasher;
use crate::config::Settings;
use crate::db;
use crate::startup::{self, Application};

#[derive(Debug, Parser)]
#[command(
    name = "certverify",
    version,
    about = "Unified certificate query and verification platform"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        /// Address to listen on; overrides CERTVERIFY_LISTEN.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Apply pending database migrations.
    Migrate {
        /// Revert every migration instead (drops all data; for development and tests).
        #[arg(long, requires = "yes")]
        revert_all: bool,
        /// Confirm a destructive action.
        #[arg(long)]
        yes: bool,
    },
    /// Manage the platform's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import or export the registry of recognized qualifications.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Print the OpenAPI document the server serves.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Import a registry document (JSON) or qualifications (a .csv file); all or nothing,
    /// and importing the same file twice changes nothing.
    Import {
        /// The file to import (`-` for standard input, read as JSON).
        file: PathBuf,
    },
    /// Write the whole registry in the import format.
    Export {
        /// Where to write it; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a new Ed25519 key as a PKCS#8 PEM file (mode 0600) and print its kid.
    Generate {
        /// Where to write it; defaults to CERTVERIFY_KEY_FILE.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin service account; prints one JSON line with its client id and secret.
    Bootstrap {
        /// A name for the account, e.g. the person or team it belongs to.
        #[arg(long)]
        name: String,
    },
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let settings = match Settings::from_env() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("certverify: configuration error: {e}");
                return ExitCode::from(2);
            }
        };
        crate::ops::telemetry::init(settings.log_format);
        match self.command.run(settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("certverify: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

impl Command {
    fn run(self, mut settings: Settings) -> anyhow::Result<()> {
        match self {
            Command::Serve { listen } => {
                if let Some(listen) = listen {
                    settings.listen = listen;
                }
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let app = Application::build(settings).await?;
                    app.run_until_stopped().await?;
                    tracing::info!("stopped");
                    Ok(())
                })
            }
            Command::Migrate { revert_all, yes: _ } => {
                let pool = db::build_pool(&settings.database_url, 1)?;
                let mut conn = pool.get()?;
                let done = if revert_all {
                    db::migrations::revert_all(&mut conn)?
                } else {
                    db::migrations::run_pending(&mut conn)?
                };
                let verb = if revert_all { "reverted" } else { "applied" };
                eprintln!(
                    "{verb} {} migration(s){}",
                    done.len(),
                    if done.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", done.join(", "))
                    }
                );
                Ok(())
            }
            Command::Keys {
                command: KeysCommand::Generate { out, force },
            } => {
                let path = out.unwrap_or(settings.key_file);
                let key = keys::generate_key_file(&path, force)?;
                let jwk = keys::jwk_of(&key.verifying_key());
                eprintln!("wrote {}", path.display());
                println!("{}", serde_json::to_string(&jwk)?);
                Ok(())
            }
            Command::Admin {
                command: AdminCommand::Bootstrap { name },
            } => bootstrap_admin(&settings, &name),
            Command::Registry { command } => crate::registry::cli::run(&settings, command.into()),
            Command::Openapi => {
                println!("{}", serde_json::to_string_pretty(&startup::api_doc())?);
                Ok(())
            }
        }
    }
}

impl From<RegistryCommand> for crate::registry::cli::Task {
    fn from(command: RegistryCommand) -> Self {
        match command {
            RegistryCommand::Import { file } => Self::Import(file),
            RegistryCommand::Export { out } => Self::Export(out),
        }
    }
}

fn bootstrap_admin(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    let pool = db::build_pool(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    db::migrations::run_pending(&mut conn)?;
    let secret = accounts::new_client_secret();
    let hash = PasswordHasher::new(settings.argon2)?.hash(&secret)?;
    let row = accounts::queries::insert(
        &mut conn,
        AccountKind::Admin,
        name,
        &["admin".to_owned()],
        &hash,
        None,
    )?;
    println!(
        "{}",
        serde_json::json!({"client_id": row.client_id, "client_secret": secret})
    );
    Ok(())
}
