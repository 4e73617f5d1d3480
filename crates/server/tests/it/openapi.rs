//! `/api/v1/openapi.json` is a valid OpenAPI 3.1 document listing every `/api/v1` route, and
//! every route it lists exists on the server.

use crate::support::TestServer;
use std::collections::BTreeSet;

/// Every `/api/v1` route the router serves, with its methods.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/token"),
    ("delete", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/chat"),
    ("get", "/api/v1/chat/history"),
    ("delete", "/api/v1/chat/history"),
    ("get", "/api/v1/chat/export"),
    ("get", "/api/v1/safety-plan"),
    ("put", "/api/v1/safety-plan"),
    ("delete", "/api/v1/safety-plan"),
    ("post", "/api/v1/library/uploads"),
    ("get", "/api/v1/library/documents"),
    ("delete", "/api/v1/library/documents/{id}"),
    ("post", "/api/v1/billing/checkout"),
    ("post", "/api/v1/billing/portal"),
    ("post", "/api/v1/billing/webhook"),
    ("get", "/api/v1/companies/{id}/reports"),
    ("get", "/api/v1/companies/{id}/reports/{month}"),
];

#[tokio::test]
async fn the_openapi_document_is_valid_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite(dir.path()).await;
    let text = server.get_text("/api/v1/openapi.json").await;
    let spec = oas3::from_json(&text).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let documented: BTreeSet<(String, String)> = spec
        .paths
        .iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.methods()
                .into_iter()
                .map(move |(method, _)| (method.as_str().to_lowercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);

    // Each documented route exists: no 404 "no such API route" and no 405.
    for (method, path) in &served {
        let url = server.url(&path.replace("{id}", "1"));
        let request = match method.as_str() {
            "get" => server.client.get(url),
            "post" => server.client.post(url),
            "put" => server.client.put(url),
            "delete" => server.client.delete(url),
            other => panic!("unexpected method {other}"),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            status != 405 && !body.contains("no such API route"),
            "{method} {path}: {status}"
        );
    }
    server.stop().await;
}
