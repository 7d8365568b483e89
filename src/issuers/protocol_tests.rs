use rand_core::OsRng;

use super::*;

const PLATFORM: &str = "https://certverify.test";

fn answer(now: i64, lifetime: i64) -> Answer {
    Answer {
        iss: "acca".into(),
        aud: PLATFORM.into(),
        iat: now,
        exp: now + lifetime,
        jti: new_jti(),
        body: AnswerBody::VerificationResult {
            request_id: "r1".into(),
            in_reply_to: Some("j1".into()),
            outcome: Outcome::Confirmed,
            certificate: None,
        },
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn a_signed_answer_verifies_and_names_its_sender() {
    let key = SigningKey::generate(&mut OsRng);
    let token = sign(&answer(now(), 60), ANSWER_TYP, "k1", &key).unwrap();
    assert_eq!(
        sender(&token, ANSWER_TYP).unwrap(),
        Sender {
            iss: "acca".into(),
            kid: "k1".into()
        }
    );
    let claims: Answer = verify(
        &token,
        ANSWER_TYP,
        &key.verifying_key(),
        Some(PLATFORM),
        now(),
    )
    .unwrap();
    assert!(matches!(
        claims.body,
        AnswerBody::VerificationResult {
            outcome: Outcome::Confirmed,
            ..
        }
    ));
}

#[test]
fn the_answer_wire_format_has_a_type_member() {
    let value = serde_json::to_value(answer(0, 60)).unwrap();
    assert_eq!(value["type"], "verification_result");
    assert_eq!(value["outcome"], "confirmed");
}

#[test]
fn another_key_another_typ_or_another_audience_is_refused() {
    let key = SigningKey::generate(&mut OsRng);
    let other = SigningKey::generate(&mut OsRng);
    let token = sign(&answer(now(), 60), ANSWER_TYP, "k1", &key).unwrap();
    assert_eq!(
        verify::<Answer>(
            &token,
            ANSWER_TYP,
            &other.verifying_key(),
            Some(PLATFORM),
            now()
        ),
        Err(ProtocolError::BadSignature)
    );
    assert_eq!(
        verify::<Answer>(
            &token,
            REQUEST_TYP,
            &key.verifying_key(),
            Some(PLATFORM),
            now()
        ),
        Err(ProtocolError::WrongType {
            expected: REQUEST_TYP
        })
    );
    assert!(matches!(
        verify::<Answer>(
            &token,
            ANSWER_TYP,
            &key.verifying_key(),
            Some("https://other"),
            now()
        ),
        Err(ProtocolError::WrongAudience(_))
    ));
}

#[test]
fn an_expired_or_long_lived_message_is_refused() {
    let key = SigningKey::generate(&mut OsRng);
    let old = sign(&answer(now() - 600, 60), ANSWER_TYP, "k1", &key).unwrap();
    assert_eq!(
        verify::<Answer>(
            &old,
            ANSWER_TYP,
            &key.verifying_key(),
            Some(PLATFORM),
            now()
        ),
        Err(ProtocolError::Expired)
    );
    let long = sign(
        &answer(now(), MAX_LIFETIME_SECS + 1),
        ANSWER_TYP,
        "k1",
        &key,
    )
    .unwrap();
    assert_eq!(
        verify::<Answer>(
            &long,
            ANSWER_TYP,
            &key.verifying_key(),
            Some(PLATFORM),
            now()
        ),
        Err(ProtocolError::BadLifetime)
    );
    let future = sign(&answer(now() + 3600, 60), ANSWER_TYP, "k1", &key).unwrap();
    assert_eq!(
        verify::<Answer>(
            &future,
            ANSWER_TYP,
            &key.verifying_key(),
            Some(PLATFORM),
            now()
        ),
        Err(ProtocolError::BadLifetime)
    );
}

#[test]
fn garbage_and_unsigned_messages_are_malformed_or_refused() {
    let key = SigningKey::generate(&mut OsRng);
    assert!(matches!(
        sender("nope", ANSWER_TYP),
        Err(ProtocolError::Malformed(_))
    ));
    let header =
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"certverify-answer+jwt","kid":"k1"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&answer(now(), 60)).unwrap());
    let forged = format!("{header}.{body}.AAAA");
    assert_eq!(
        sender(&forged, ANSWER_TYP),
        Err(ProtocolError::WrongAlgorithm)
    );
    assert!(verify::<Answer>(
        &forged,
        ANSWER_TYP,
        &key.verifying_key(),
        Some(PLATFORM),
        now()
    )
    .is_err());
}
