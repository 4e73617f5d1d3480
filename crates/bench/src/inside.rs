//! What a turn does inside our server, timed in-process with the same code the server runs:
//! retrieval (BM25 over the library), encryption of messages at rest, the token ledger's
//! reserve + settle round trip on each database, and token counting of the prompt.

use crate::corpus;
use crate::servers::{Backend, BenchResult, Database};
use crate::stats::{Samples, Summary};
use app::crypto::AeadCipher;
use app::system::SystemEnv;
use chrono::Utc;
use domain::budget::{BudgetLine, ReservationRequest, Subject};
use domain::model::ChatTurn;
use domain::ports::{IdGenerator, MessageCipher, TokenCounter, UsageLedger};
use domain::retrieval::SearchIndex;
use domain::{CompanyId, Period, ReservationId, UserId};
use model_openai::{CachedTokenCounter, TiktokenCounter};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// One measured operation.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub latency: Summary,
    pub note: String,
}

pub const PASSAGES: usize = 10_000;
pub const QUERIES: usize = 1_000;

pub fn retrieval() -> Vec<Row> {
    let sources = corpus::passages(PASSAGES, 120);
    let words: usize = sources.iter().map(|s| s.text.split(' ').count()).sum();
    let started = Instant::now();
    let index = SearchIndex::build(sources);
    let build = started.elapsed();
    let queries = corpus::queries(QUERIES);
    for q in queries.iter().take(50) {
        black_box(index.search(q, 6));
    }
    let mut samples = Samples::with_capacity(QUERIES);
    let mut hits = 0;
    for q in &queries {
        let t = Instant::now();
        let found = black_box(index.search(q, 6));
        samples.record(t.elapsed());
        hits += found.len();
    }
    vec![Row {
        what: format!("retrieval: `search(query, 6)` over {PASSAGES} passages"),
        latency: samples.summary(),
        note: format!(
            "{QUERIES} queries, {:.1} passages found per query; index of {words} words built in {}",
            hits as f64 / QUERIES as f64,
            crate::stats::human(build)
        ),
    }]
}

pub fn encryption() -> BenchResult<Vec<Row>> {
    const N: usize = 20_000;
    let cipher = AeadCipher::from_key(&[7u8; 32]).map_err(|e| format!("{e:?}"))?;
    let owner = UserId(42);
    let text: String = corpus::sentence_of_bytes(500);
    let (mut seal, mut open) = (Samples::with_capacity(N), Samples::with_capacity(N));
    for _ in 0..N {
        let t = Instant::now();
        let sealed = black_box(cipher.seal(owner, black_box(&text)));
        seal.record(t.elapsed());
        let t = Instant::now();
        let opened = black_box(cipher.open(owner, &sealed));
        open.record(t.elapsed());
        if opened.as_deref() != Ok(text.as_str()) {
            return Err("encryption round trip changed the text".into());
        }
    }
    let note = format!("{N} messages of {} bytes, XChaCha20-Poly1305", text.len());
    Ok(vec![
        Row {
            what: "encryption: `seal` of a 500-byte message".into(),
            latency: seal.summary(),
            note: note.clone(),
        },
        Row {
            what: "encryption: `open` of a 500-byte message".into(),
            latency: open.summary(),
            note,
        },
    ])
}

/// Counting the prompt of a turn: `prompt` is a real request the server sent to the model, or a
/// synthetic one of the same shape.
pub fn token_counting(prompt: &[ChatTurn], origin: &str) -> Vec<Row> {
    const N: usize = 1_000;
    let started = Instant::now();
    let counter = TiktokenCounter::new();
    let init = started.elapsed();
    let tokens = counter.count_request(prompt);
    let text: usize = prompt.iter().map(|t| t.content.len()).sum();
    let mut samples = Samples::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        black_box(counter.count_request(black_box(prompt)));
        samples.record(t.elapsed());
    }
    let message = crate::load::MESSAGES[0];
    let mut one = Samples::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        black_box(counter.count(black_box(message)));
        one.record(t.elapsed());
    }
    vec![
        Row {
            what: format!(
                "token counting: whole prompt ({} messages, {text} bytes, {tokens} tokens)",
                prompt.len()
            ),
            latency: samples.summary(),
            note: format!(
                "{origin}; o200k_base, whose tables are built once per process (first use here: {})",
                crate::stats::human(init)
            ),
        },
        Row {
            what: "token counting: the person's message alone".into(),
            latency: one.summary(),
            note: format!("{} bytes", message.len()),
        },
    ]
}

/// Reserve + settle through the store's `UsageLedger`, sequentially, for an individual (one
/// budget line) and an employee (personal cap + company pool).
pub async fn accounting(backend: Backend, dir: &Path) -> BenchResult<Vec<Row>> {
    let database = Database::create(backend, dir, "ledger").await?;
    let rows = match backend {
        Backend::Sqlite => {
            let store = persistence_sqlite::SqliteStore::open(&database.url)
                .await
                .map_err(|e| e.to_string())?;
            ledger_rows(&store, "SQLite").await
        }
        Backend::MysqlRedis => {
            let store = persistence_mysql::MysqlStore::open(&database.url, 16)
                .await
                .map_err(|e| e.to_string())?;
            ledger_rows(&store, "MySQL").await
        }
    };
    database.drop_it().await;
    rows
}

async fn ledger_rows<L: UsageLedger>(ledger: &L, name: &str) -> BenchResult<Vec<Row>> {
    const N: usize = 2_000;
    let ids = SystemEnv::default();
    let period = Period::calendar_month(Utc::now());
    let line = |subject| BudgetLine {
        subject,
        period,
        allowance: Some(1_000_000_000),
        may_use_topup: false,
    };
    let people: Vec<Subject> = (0..64)
        .map(|_| Subject::User(UserId(ids.next_id())))
        .collect();
    let company = Subject::Company(CompanyId(ids.next_id()));
    let mut rows = Vec::new();
    for (shape, with_company) in [("individual, 1 line", false), ("employee, 2 lines", true)] {
        let (mut reserve, mut settle) = (Samples::with_capacity(N), Samples::with_capacity(N));
        for i in 0..N + 100 {
            let mut lines = vec![line(people[i % people.len()])];
            if with_company {
                lines.push(line(company));
            }
            let request = ReservationRequest {
                id: ReservationId(ids.next_id()),
                amount: 2_400,
                lines,
                expires_at: Utc::now() + chrono::Duration::minutes(5),
            };
            let t = Instant::now();
            let reservation = ledger
                .reserve(request)
                .await
                .map_err(|e| format!("{name} reserve: {e}"))?;
            let reserved = t.elapsed();
            let t = Instant::now();
            let settled = ledger
                .settle(reservation.id, 1_200)
                .await
                .map_err(|e| format!("{name} settle: {e}"))?;
            let settled_in = t.elapsed();
            if !settled {
                return Err(format!("{name}: a fresh reservation was not settled"));
            }
            // The first 100 round trips warm the pool and the caches.
            if i >= 100 {
                reserve.record(reserved);
                settle.record(settled_in);
            }
        }
        let note = format!("{N} sequential round trips, one connection at a time");
        rows.push(Row {
            what: format!("accounting on {name}: `reserve` ({shape})"),
            latency: reserve.summary(),
            note: note.clone(),
        });
        rows.push(Row {
            what: format!("accounting on {name}: `settle` ({shape})"),
            latency: settle.summary(),
            note,
        });
    }
    Ok(rows)
}

/// Counting a turn's system message (prompt and 6 passages) with the server's cached counter,
/// when every turn brings a combination of passages not seen before but each passage recurs:
/// counted whole (as the server did before 2026-11-26) and piece by piece
/// (`system_message_parts`, as it does now).
pub fn system_message_counting() -> Vec<Row> {
    use domain::Locale;
    use domain::prompt::{default_system_prompt, system_message_parts};
    const TURNS: usize = 1_000;
    const LIBRARY: usize = 60;
    let passages = corpus::passages(LIBRARY, 120);
    let prompt = default_system_prompt(Locale::PtBr);
    // Turn t takes passages t, t+7, t+14, … (mod 60): a combination repeats only every 60
    // turns, and by then the whole-message cache has seen it, so each pass uses other strides.
    let combination = |t: usize| -> Vec<_> {
        let stride = 7 + 2 * (t / LIBRARY) % 40;
        (0..6)
            .map(|k| passages[(t + k * stride) % LIBRARY].clone())
            .collect()
    };
    let whole = CachedTokenCounter::new();
    let pieces = CachedTokenCounter::new();
    let (mut by_whole, mut by_pieces) =
        (Samples::with_capacity(TURNS), Samples::with_capacity(TURNS));
    for t in 0..TURNS {
        let sources = combination(t);
        let parts = system_message_parts(prompt, &sources, Locale::PtBr);
        let started = Instant::now();
        black_box(whole.count(&parts.concat()));
        by_whole.record(started.elapsed());
        let started = Instant::now();
        black_box(parts.iter().map(|p| pieces.count(p)).sum::<u64>());
        by_pieces.record(started.elapsed());
    }
    let note = format!(
        "{TURNS} turns, each with 6 of {LIBRARY} passages in a combination new to the cache"
    );
    vec![
        Row {
            what: "token counting: a turn's system message, whole (cached counter)".into(),
            latency: by_whole.summary(),
            note: note.clone(),
        },
        Row {
            what: "token counting: a turn's system message, piece by piece (cached counter)".into(),
            latency: by_pieces.summary(),
            note,
        },
    ]
}

/// A prompt of the shape the server sends: system prompt with 6 passages, 12 history messages
/// and the new one; for when no real one was captured.
pub fn synthetic_prompt() -> Vec<ChatTurn> {
    use domain::model::ChatRole;
    let sources = corpus::passages(6, 120);
    let system = domain::prompt::system_message(
        domain::prompt::default_system_prompt(domain::Locale::PtBr),
        &sources,
        domain::Locale::PtBr,
    );
    let mut turns = vec![ChatTurn {
        role: ChatRole::System,
        content: system,
    }];
    for i in 0..12 {
        let role = if i % 2 == 0 {
            ChatRole::User
        } else {
            ChatRole::Assistant
        };
        turns.push(ChatTurn {
            role,
            content: crate::load::MESSAGES[i % crate::load::MESSAGES.len()].into(),
        });
    }
    turns
}
