use certverify::db::migrations;

use crate::helpers::spawn_app;

#[tokio::test]
async fn migrations_go_down_and_up_again_cleanly() {
    let app = spawn_app().await;
    app.with_db(|conn| {
        assert!(!migrations::has_pending(conn).unwrap());
        let reverted = migrations::revert_all(conn).unwrap();
        assert!(!reverted.is_empty());
        assert!(migrations::has_pending(conn).unwrap());
        let applied = migrations::run_pending(conn).unwrap();
        assert_eq!(applied.len(), reverted.len());
        assert!(!migrations::has_pending(conn).unwrap());
    });
    assert_eq!(app.register_holder("ana@example.org").await.status(), 202);
}
