//! Verification records: W3C credentials with eddsa-jcs-2022 proofs, the platform's keys,
//! status lists, share codes and agency queries.

pub mod access_writer;
pub mod admin_routes;
pub mod credential;
pub mod did;
pub mod holder_ops;
mod holder_queries;
pub mod holder_routes;
pub mod issue;
pub mod jose;
pub mod keys;
pub mod lookup_routes;
pub mod multikey;
pub mod offline;
pub mod offline_keys;
pub mod offline_status;
pub mod proof;
mod queries;
pub mod routes;
pub mod share_code;
pub mod status;
pub mod status_list;
pub mod types;
pub mod verify_cli;
pub mod verify_platform;

pub use holder_queries::find_for_holder;
pub use queries::{find, find_by_request, find_by_share_code, log_access, RecordRow};

use crate::app::AppState;

/// What the records keep while the service runs, beside the shared state: the writer that
/// commits agency reads' log rows in groups, and the status lists new records draw from.
/// `startup` builds one and hands it to the routes (`web::Data<RecordsState>`) and to the
/// dispatcher.
pub struct RecordsState {
    pub access_log: access_writer::AccessWriter,
    pub status_lists: issue::NewestLists,
}

impl RecordsState {
    pub fn start(pool: crate::db::Pool) -> std::io::Result<Self> {
        Ok(Self {
            access_log: access_writer::AccessWriter::start(pool)?,
            status_lists: Default::default(),
        })
    }

    /// What issuing a record needs: the shared state's keys and settings, and these lists.
    pub fn issuance<'a>(&'a self, app: &'a AppState) -> issue::Issuance<'a> {
        issue::Issuance {
            keys: &app.keys,
            pii: &app.pii,
            public_url: &app.public_url,
            validity: app.settings.record_validity,
            lists: &self.status_lists,
        }
    }
}
