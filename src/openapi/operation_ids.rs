//! The operation ids of the document: one table, so each is unique and says what it does.

/// Operation ids by method and path: unique, and saying what each does (client generators
/// name their functions after them). A unit test checks that every operation has one.
pub(super) const OPERATION_IDS: &[(&str, &str, &str)] = &[
    ("get", "/.well-known/did.json", "getDidDocument"),
    ("get", "/.well-known/jwks.json", "getJwks"),
    ("get", "/healthz", "getHealth"),
    ("get", "/metrics", "getMetrics"),
    ("get", "/readyz", "getReadiness"),
    ("post", "/v1/admin/agencies", "createAgency"),
    ("get", "/v1/admin/audit", "listAuditEntries"),
    ("post", "/v1/admin/issuing-bodies", "createIssuingBody"),
    (
        "patch",
        "/v1/admin/issuing-bodies/{id}",
        "updateIssuingBody",
    ),
    (
        "post",
        "/v1/admin/issuing-bodies/{id}/keys",
        "addIssuingBodyKey",
    ),
    (
        "post",
        "/v1/admin/issuing-bodies/{id}/keys/{kid}/retire",
        "retireIssuingBodyKey",
    ),
    ("post", "/v1/admin/list-versions", "createListVersion"),
    ("post", "/v1/admin/qualifications", "createQualification"),
    (
        "patch",
        "/v1/admin/qualifications/{id}",
        "updateQualification",
    ),
    (
        "post",
        "/v1/admin/qualifications/{id}/remove",
        "removeQualification",
    ),
    (
        "post",
        "/v1/admin/qualifications/{id}/restore",
        "restoreQualification",
    ),
    (
        "post",
        "/v1/admin/records/{id}/reinstate",
        "reinstateRecord",
    ),
    ("post", "/v1/admin/records/{id}/revoke", "revokeRecord"),
    ("post", "/v1/admin/records/{id}/suspend", "suspendRecord"),
    ("post", "/v1/admin/registry/import", "importRegistry"),
    ("get", "/v1/admin/review-queue", "listReviewQueue"),
    (
        "post",
        "/v1/admin/verification-requests/{id}/decision",
        "decideReview",
    ),
    ("post", "/v1/auth/login", "loginHolder"),
    ("post", "/v1/eligibility", "checkEligibility"),
    ("post", "/v1/holders", "registerHolder"),
    ("post", "/v1/holders/verify-email", "verifyHolderEmail"),
    (
        "post",
        "/v1/holders/resend-verification",
        "resendHolderVerification",
    ),
    ("post", "/v1/issuer-callbacks", "receiveIssuerCallback"),
    ("get", "/v1/issuing-bodies", "listIssuingBodies"),
    ("get", "/v1/issuing-bodies/{id}", "getIssuingBody"),
    ("get", "/v1/list-versions", "listListVersions"),
    ("get", "/v1/me", "getMe"),
    ("get", "/v1/me/access-log", "listMyAccessLog"),
    ("get", "/v1/me/records", "listMyRecords"),
    ("post", "/v1/oauth/token", "issueToken"),
    ("get", "/v1/policy/services", "listPolicyServices"),
    ("get", "/v1/qualifications", "listQualifications"),
    ("get", "/v1/qualifications/{id}", "getQualification"),
    (
        "get",
        "/v1/records/by-share-code/{code}",
        "getRecordByShareCode",
    ),
    ("post", "/v1/records/search", "searchRecords"),
    ("get", "/v1/records/{id}", "getRecord"),
    ("get", "/v1/records/{id}/services", "listRecordServices"),
    ("post", "/v1/records/{id}/share-codes", "createShareCode"),
    ("delete", "/v1/share-codes/{code}", "deleteShareCode"),
    ("get", "/v1/share-codes/{code}", "checkShareCode"),
    ("get", "/v1/status-lists/{id}", "getStatusList"),
    (
        "get",
        "/v1/verification-requests",
        "listVerificationRequests",
    ),
    (
        "post",
        "/v1/verification-requests",
        "createVerificationRequest",
    ),
    (
        "get",
        "/v1/verification-requests/{id}",
        "getVerificationRequest",
    ),
    (
        "put",
        "/v1/verification-requests/{id}/evidence",
        "putEvidence",
    ),
    (
        "post",
        "/v1/verification-requests/{id}/withdraw",
        "withdrawVerificationRequest",
    ),
];

pub(super) fn operation_id(method: &str, path: &str) -> Option<&'static str> {
    OPERATION_IDS
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::OPERATION_IDS;
    use std::collections::HashSet;

    #[test]
    fn operation_ids_are_unique() {
        let ids: HashSet<_> = OPERATION_IDS.iter().map(|(_, _, id)| id).collect();
        assert_eq!(ids.len(), OPERATION_IDS.len());
    }

    #[test]
    fn every_served_operation_has_a_named_id() {
        let doc = crate::startup::api_doc();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("patch", &item.patch),
                ("delete", &item.delete),
            ] {
                if op.is_some() {
                    assert!(
                        super::operation_id(method, path).is_some(),
                        "{method} {path} has no entry in OPERATION_IDS"
                    );
                }
            }
        }
    }
}
