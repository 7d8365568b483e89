//! `certverify verify-record FILE [--jwks URL-or-FILE] [--did URL-or-FILE] [--status]`:
//! verifies a record without the platform's database. Exit 0 valid, 1 invalid (the reason
//! on stdout), 2 unusable input (unreadable file, neither JSON nor JWS, unreachable URL).

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

use super::offline::{self, Failure, Verified};
use super::offline_keys::{did_web_url, KeySet};
use super::offline_status;

/// Documents are small; the cap stops a wrong URL from streaming forever.
const MAX_FETCH_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct VerifyRecordArgs {
    /// The record: a JSON credential, a compact vc+jwt, or the body of GET /v1/records/{id};
    /// `-` reads standard input.
    pub file: PathBuf,
    /// The platform's keys as a JWKS (its /.well-known/jwks.json): a URL or a file.
    #[arg(long)]
    pub jwks: Option<String>,
    /// The platform's DID document (its /.well-known/did.json): a URL or a file. With
    /// neither option, the issuer's did:web is resolved over HTTPS.
    #[arg(long, conflicts_with = "jwks")]
    pub did: Option<String>,
    /// Also fetch each status list the record names and check its bit.
    #[arg(long)]
    pub status: bool,
}

pub fn run(args: VerifyRecordArgs) -> ExitCode {
    match verify(&args) {
        Ok(v) => {
            println!(
                "valid: {} issued by {} (key {}), valid until {}",
                v.id, v.issuer, v.verification_method, v.valid_until
            );
            ExitCode::SUCCESS
        }
        Err(Failure::Invalid(reason)) => {
            println!("invalid: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Unusable(reason)) => {
            eprintln!("certverify verify-record: {reason}");
            ExitCode::from(2)
        }
    }
}

fn verify(args: &VerifyRecordArgs) -> Result<Verified, Failure> {
    let fetcher = Fetcher::new()?;
    let text = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Unusable(format!("cannot read standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| Failure::Unusable(format!("cannot read {}: {e}", args.file.display())))?
    };
    let signed = offline::parse(&text)?;
    let keys = keys(args, &fetcher, signed.credential())?;
    let now = chrono::Utc::now();
    let verified = offline::verify_record(&signed, &keys, now)?;
    if args.status {
        let mut lists: HashMap<String, offline::Signed> = HashMap::new();
        for entry in offline_status::entries(signed.credential())? {
            if !lists.contains_key(&entry.list) {
                let list = offline::parse(&fetcher.get(&entry.list)?)?;
                lists.insert(entry.list.clone(), list);
            }
            if let Some(list) = lists.get(&entry.list) {
                offline_status::check(&entry, list, &keys, &verified.issuer, now)?;
            }
        }
    }
    Ok(verified)
}

fn keys(args: &VerifyRecordArgs, fetcher: &Fetcher, credential: &Value) -> Result<KeySet, Failure> {
    let document = |source: &str| -> Result<Value, Failure> {
        serde_json::from_str(&fetcher.get(source)?)
            .map_err(|e| Failure::Unusable(format!("{source} is not JSON: {e}")))
    };
    let unusable = |source: String| move |e: String| Failure::Unusable(format!("{source}: {e}"));
    if let Some(source) = &args.jwks {
        return KeySet::from_jwks(&document(source)?).map_err(unusable(source.clone()));
    }
    let source = match &args.did {
        Some(source) => source.clone(),
        None => {
            let issuer = offline::issuer_of(credential)
                .ok_or_else(|| Failure::Invalid("the credential has no issuer".into()))?;
            did_web_url(issuer).ok_or_else(|| {
                Failure::Unusable(format!(
                    "the issuer {issuer} is not a did:web; give --jwks or --did"
                ))
            })?
        }
    };
    KeySet::from_did_document(&document(&source)?).map_err(unusable(source))
}

/// Files and http(s) URLs alike; anything that is not a URL is a path.
struct Fetcher {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Fetcher {
    fn new() -> Result<Self, Failure> {
        let fail = |e: String| Failure::Unusable(format!("cannot start the HTTP client: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self { runtime, client })
    }

    fn get(&self, source: &str) -> Result<String, Failure> {
        if !(source.starts_with("http://") || source.starts_with("https://")) {
            return std::fs::read_to_string(source)
                .map_err(|e| Failure::Unusable(format!("cannot read {source}: {e}")));
        }
        let fail = |e: String| Failure::Unusable(format!("cannot fetch {source}: {e}"));
        self.runtime.block_on(async {
            let response = self
                .client
                .get(source)
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !response.status().is_success() {
                return Err(fail(format!("HTTP {}", response.status())));
            }
            let body = response.bytes().await.map_err(|e| fail(e.to_string()))?;
            if body.len() > MAX_FETCH_BYTES {
                return Err(fail("the document is too large".into()));
            }
            String::from_utf8(body.to_vec()).map_err(|_| fail("not UTF-8".into()))
        })
    }
}
