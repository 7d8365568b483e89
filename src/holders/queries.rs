//! Holder storage.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::types::{HolderView, IdentityDocumentView, NewHolder};
use crate::db::schema::holders;
use crate::db::DbConnection;
use crate::domain::identity::PiiKey;
use crate::domain::IdentityKind;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = holders)]
pub struct HolderRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub nationality: String,
    pub identity_kind: String,
    pub date_of_birth: NaiveDate,
    pub identity_document_type: String,
    pub identity_document_last4: String,
    pub residence_country: String,
    pub shanghai_hukou: bool,
    pub created_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
}

impl HolderRow {
    pub fn view(self) -> HolderView {
        HolderView {
            id: self.id,
            email: self.email,
            full_name: self.full_name,
            nationality: self.nationality,
            // The column has a CHECK constraint; a foreign value can only come from outside.
            identity_kind: IdentityKind::parse(&self.identity_kind)
                .unwrap_or(IdentityKind::ForeignNational),
            date_of_birth: self.date_of_birth,
            identity_document: IdentityDocumentView {
                doc_type: self.identity_document_type,
                last4: self.identity_document_last4,
            },
            residence_country: self.residence_country,
            shanghai_hukou: self.shanghai_hukou,
            created_at: self.created_at,
            email_verified: self.email_verified_at.is_some(),
        }
    }
}

pub fn insert(
    conn: &mut DbConnection,
    holder: &NewHolder,
    password_hash: &str,
    pii: &PiiKey,
) -> QueryResult<HolderRow> {
    let now = chrono::Utc::now().naive_utc();
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(holders::table)
        .values((
            holders::id.eq(&id),
            holders::email.eq(&holder.email),
            holders::email_normalized.eq(&holder.email_normalized),
            holders::password_hash.eq(password_hash),
            holders::full_name.eq(&holder.full_name),
            holders::nationality.eq(&holder.document.nationality),
            holders::identity_kind.eq(holder.identity_kind.as_str()),
            holders::date_of_birth.eq(holder.date_of_birth),
            holders::identity_document_type.eq(&holder.document.doc_type),
            holders::identity_document_hmac.eq(pii.document_digest(&holder.document)),
            holders::identity_document_last4.eq(holder.document.last4()),
            holders::identity_document_sealed.eq(pii.seal(&holder.document)),
            holders::residence_country.eq(&holder.residence_country),
            holders::shanghai_hukou.eq(holder.shanghai_hukou),
            holders::created_at.eq(now),
            holders::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<HolderRow>> {
    holders::table
        .find(id)
        .select(HolderRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<HolderRow>> {
    holders::table
        .filter(holders::email_normalized.eq(email.trim().to_lowercase()))
        .select(HolderRow::as_select())
        .first(conn)
        .optional()
}
