//! `certverify audit verify`: recomputes the chain from the database.

use super::chain::{self, Verdict};
use crate::config::Settings;
use crate::db;

/// Prints how many rows were checked; a broken chain is an error naming the first bad row,
/// so the process exits 1.
pub fn verify(settings: &Settings) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    match chain::verify(&mut conn)? {
        Verdict::Intact { checked, unlinked } => {
            println!("audit chain intact: {checked} row(s) checked, {unlinked} not yet linked");
            Ok(())
        }
        Verdict::Broken { checked, row } => {
            println!(
                "audit chain broken: {checked} row(s) checked before row {} (seq {})",
                row.id, row.seq
            );
            anyhow::bail!(
                "audit chain broken at row {} (seq {}): {}",
                row.id,
                row.seq,
                row.reason
            )
        }
    }
}
