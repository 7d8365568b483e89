//! The `certverify` command line.

mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts;
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
        /// A demonstration on one machine: the sample registry, simulated issuing bodies,
        /// mail as files, a banner on every page (SQLite only).
        #[arg(long)]
        demo: bool,
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
    /// Check the hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI document the server serves.
    Openapi,
    /// Play an issuing body: answer the platform's signed verification requests from a
    /// certificates file, synchronously or by callback (see docs/issuer-protocol.md).
    IssuerSim(IssuerSimArgs),
    /// Verify a record offline: its proof against the platform's keys, its type and
    /// validity, and with --status its status lists. Exit 0 valid, 1 invalid, 2 unusable input.
    VerifyRecord(crate::records::verify_cli::VerifyRecordArgs),
}

#[derive(Debug, clap::Args)]
struct IssuerSimArgs {
    /// Address to listen on, e.g. 127.0.0.1:9090.
    #[arg(long)]
    listen: std::net::SocketAddr,
    /// The certificates the body knows: a JSON array of {certificate_number,
    /// qualification_code?, holder_name, date_of_birth?, issued_on, expires_on, status}
    /// (see samples/issuer-sim-certificates.json).
    #[arg(long)]
    certificates: PathBuf,
    /// The platform's public keys: the URL of its /.well-known/jwks.json, or a file.
    #[arg(long)]
    platform_jwks: String,
    /// sync: answer 200 with the signed answer; callback: answer 202, then POST the signed
    /// answer to the request's callback_url.
    #[arg(long, value_enum, default_value_t = crate::sim::Mode::Sync)]
    mode: crate::sim::Mode,
    /// Wait this long before answering (the 200, or the callback).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer this fraction of verification requests (0 to 1) with 503, to exercise retries.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    fail_rate: f64,
    /// Tries of each callback before giving up on it (the platform asks again later).
    #[arg(long, default_value_t = crate::sim::DEFAULT_CALLBACK_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..))]
    callback_attempts: u32,
    /// The body's Ed25519 key (PKCS#8 PEM), generated (mode 0600) when the file does not
    /// exist; a fresh in-memory key when absent. Its JWK is served at /.well-known/jwks.json.
    #[arg(long)]
    key: Option<PathBuf>,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{text:?} is not a number from 0 to 1")),
    }
}

impl IssuerSimArgs {
    fn run(self) -> anyhow::Result<()> {
        let certificates = crate::sim::Certificates::load(&self.certificates)?;
        let key = crate::sim::load_or_generate_key(self.key.as_deref())?;
        let config = crate::sim::SimConfig {
            listen: self.listen,
            certificates,
            platform_jwks: self.platform_jwks,
            mode: self.mode,
            latency: std::time::Duration::from_millis(self.latency_ms),
            fail_rate: self.fail_rate,
            callback_attempts: self.callback_attempts,
            key,
            workers: None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let count = config.certificates.len();
            let sim = crate::sim::start(config).await?;
            tracing::info!(
                certificates = count,
                "register the JWK printed on stdout with the platform"
            );
            // Like `keys generate`: the public JWK alone on stdout, for scripts.
            println!("{}", serde_json::to_string(&sim.public_jwk)?);
            sim.wait().await?;
            tracing::info!("stopped");
            Ok(())
        })
    }
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
enum AuditCommand {
    /// Recompute the chain; exits 1 naming the first broken row, 0 when it is intact.
    Verify,
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
    /// Make a new signing key: the current one is retired (it still verifies what it
    /// signed) and CERTVERIFY_KEY_FILE is replaced. Restart the instances afterwards.
    Rotate,
    /// Unpublish a compromised key (not the active one: rotate first) and list the records
    /// it signed, which must be re-issued.
    Revoke {
        /// The key's kid (its RFC 7638 thumbprint, as in /.well-known/jwks.json).
        // A base64url thumbprint can start with '-' (one in 64 does); it is still a kid.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// List the platform's keys and their states.
    List,
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
        // The simulator plays another party: it needs none of the platform's settings.
        if let Command::IssuerSim(args) = self.command {
            let format = match std::env::var("CERTVERIFY_LOG_FORMAT").as_deref() {
                Ok("json") => crate::config::LogFormat::Json,
                _ => crate::config::LogFormat::Pretty,
            };
            crate::ops::telemetry::init(format);
            return match args.run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("certverify issuer-sim: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        // The verifier is what an agency runs: it needs none of the platform's settings.
        if let Command::VerifyRecord(args) = self.command {
            return crate::records::verify_cli::run(args);
        }
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
            Command::Serve { listen, demo } => {
                if let Some(listen) = listen {
                    settings.listen = listen;
                }
                if demo {
                    settings = demo::settings(settings)?;
                }
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let app = Application::build(settings.clone()).await?;
                    // Kept alive as long as the server runs.
                    let _sim = match demo {
                        true => Some(demo::start(&settings, &app).await?),
                        false => None,
                    };
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
            Command::Keys { command } => run_keys(&settings, command),
            Command::Admin {
                command: AdminCommand::Bootstrap { name },
            } => bootstrap_admin(&settings, &name),
            Command::Registry { command } => crate::registry::cli::run(&settings, command.into()),
            Command::Audit {
                command: AuditCommand::Verify,
            } => crate::audit::cli::verify(&settings),
            Command::Openapi => {
                println!("{}", serde_json::to_string_pretty(&startup::api_doc())?);
                Ok(())
            }
            Command::IssuerSim(args) => args.run(),
            // Handled in Cli::run, before the settings are read.
            Command::VerifyRecord(_) => anyhow::bail!("verify-record needs no settings"),
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

fn run_keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    // Every subcommand but `generate` works on the database's key states.
    let database = || -> anyhow::Result<db::PooledConn> {
        let mut conn = db::build_pool(&settings.database_url, 1)?.get()?;
        db::migrations::run_pending(&mut conn)?;
        Ok(conn)
    };
    let out = match command {
        KeysCommand::Generate { out, force } => {
            let path = out.unwrap_or_else(|| settings.key_file.clone());
            let key = keys::generate_key_file(&path, force)?;
            eprintln!("wrote {}", path.display());
            // Printed as is: the JWK's own member order, as before.
            println!(
                "{}",
                serde_json::to_string(&keys::jwk_of(&key.verifying_key()))?
            );
            return Ok(());
        }
        KeysCommand::Rotate => serde_json::to_value(crate::records::keys::rotate(
            &mut *database()?,
            &settings.key_file,
        )?)?,
        KeysCommand::Revoke { kid } => {
            serde_json::to_value(crate::records::keys::revoke(&mut *database()?, &kid)?)?
        }
        KeysCommand::List => serde_json::to_value(crate::records::keys::list(&mut *database()?)?)?,
    };
    println!("{out}");
    Ok(())
}

fn bootstrap_admin(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    let pool = db::build_pool(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    db::migrations::run_pending(&mut conn)?;
    let (client_id, secret) =
        accounts::create_admin(&mut conn, &PasswordHasher::new(settings.argon2)?, name)?;
    println!(
        "{}",
        serde_json::json!({"client_id": client_id, "client_secret": secret})
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_kid_that_starts_with_a_hyphen_is_taken_as_the_kid() {
        let cli = Cli::try_parse_from(["certverify", "keys", "revoke", "-7Jq0x"]).unwrap();
        match cli.command {
            Command::Keys {
                command: KeysCommand::Revoke { kid },
            } => assert_eq!(kid, "-7Jq0x"),
            other => panic!("parsed as {other:?}"),
        }
    }
}
