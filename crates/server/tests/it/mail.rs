//! Invitations by e-mail: with `SMTP_URL` set, the invitation goes out through SMTP (to a local
//! SMTP server started by the test) with a working one-time link; without it, the manager is
//! shown the link instead.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TestServer, settings};
use persistence_sqlite::SqliteStore;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the SMTP server received: envelope recipients and the message text.
#[derive(Default, Clone)]
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// A minimal SMTP server (enough of RFC 5321 for one client): accepts every message.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let shared = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let inbox = shared.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut current = Received::default();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        current.recipients.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            current.data.push_str(&data);
                            current.data.push('\n');
                        }
                        inbox.lock().unwrap().push(std::mem::take(&mut current));
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, inbox)
}

async fn server(dir: &std::path::Path, extra: &str) -> TestServer {
    let store = SqliteStore::open(&dir.join("test.db").display().to_string())
        .await
        .unwrap();
    TestServer::start(store, settings(dir, extra)).await
}

/// Creates a company as the admin and invites `email` to manage it; returns where it redirected.
async fn invite(browser: &mut Browser<'_>, email: &str) -> String {
    let token = browser.csrf("/admin").await;
    let (_, location) = browser
        .post(
            "/admin/companies",
            &[
                ("csrf", &token),
                ("name", "Gama Ltda"),
                ("seats", "3"),
                ("plan", "company-basic"),
            ],
        )
        .await;
    let id = location
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (_, location) = browser
        .post(
            "/manager/invite",
            &[
                ("csrf", &token),
                ("company", &id),
                ("email", email),
                ("role", "manager"),
            ],
        )
        .await;
    location
}

#[tokio::test]
async fn invitations_are_mailed_when_smtp_is_configured() {
    let (port, inbox) = smtp_server().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(
        dir.path(),
        &format!("smtp_url = \"smtp://127.0.0.1:{port}\""),
    )
    .await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let location = invite(&mut admin, "gestora@gama.test").await;
    assert!(location.contains("notice=invitation-sent"), "{location}");

    let mail = inbox.lock().unwrap().first().cloned().expect("one message");
    assert_eq!(mail.recipients, ["<gestora@gama.test>"]);
    assert!(mail.data.contains("Gama Ltda"));
    // The link in the message works once.
    let unfolded = mail.data.replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find("/invite/").expect("a link");
    let secret: String = unfolded[start + 8..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let mut invitee = Browser::new(&server);
    let (status, html) = invitee.get(&format!("/invite/{secret}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("gestora@gama.test"));
    server.stop().await;
}

#[tokio::test]
async fn without_smtp_the_manager_gets_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), "").await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let location = invite(&mut admin, "gestor@gama.test").await;
    assert!(location.contains("invited%3A"), "{location}");
    let (_, html) = admin.get(&location).await;
    assert!(html.contains("/invite/"), "the page shows the link");
    server.stop().await;
}
