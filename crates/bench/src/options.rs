//! The command line of `botpsicologo-bench` (and of `cargo xtask bench` / `soak`, which pass
//! their arguments through).

use crate::servers::Backend;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "usage: botpsicologo-bench stub
       botpsicologo-bench --server PATH [--root DIR] [--out FILE] [--cargo PATH] [--seconds N]
           [--extraction-bin PATH] [--rollover-bin PATH]
           [--parts chat,me,signin,inside,limiter,extraction,rollover,crisis] [--connections 1,16,64]
           [--backends sqlite,mysql] [--people N] [--build-seconds N] [--invoked-as TEXT]
       botpsicologo-bench soak --server PATH [--root DIR] [--out FILE] [--minutes N] [--rate N]
           [--backends sqlite,mysql] [--people N] [--invoked-as TEXT]";

/// The benchmarks `cargo xtask bench` can run; all by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Chat,
    Me,
    SignIn,
    Inside,
    Limiter,
    Extraction,
    Rollover,
    Crisis,
}

impl Part {
    pub const ALL: [Part; 8] = [
        Part::Chat,
        Part::Me,
        Part::SignIn,
        Part::Inside,
        Part::Limiter,
        Part::Extraction,
        Part::Rollover,
        Part::Crisis,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::Chat => "chat",
            Part::Me => "me",
            Part::SignIn => "signin",
            Part::Inside => "inside",
            Part::Limiter => "limiter",
            Part::Extraction => "extraction",
            Part::Rollover => "rollover",
            Part::Crisis => "crisis",
        }
    }
}

pub struct Options {
    pub server: PathBuf,
    pub root: PathBuf,
    pub out: Option<PathBuf>,
    pub cargo: PathBuf,
    /// The extraction benchmark and the rollover example, built by `cargo xtask bench` in the
    /// same build as the server; without them they are built and run through `cargo`.
    pub extraction_bin: Option<PathBuf>,
    pub rollover_bin: Option<PathBuf>,
    pub seconds: u64,
    pub connections: Vec<usize>,
    pub backends: Vec<Backend>,
    pub people: usize,
    pub parts: Vec<Part>,
    /// Time `cargo xtask` spent building before the run, counted in the run's wall time.
    pub build: Duration,
    pub invoked_as: String,
    /// The soak's length and rate of chat turns per second.
    pub minutes: u64,
    pub rate: u32,
}

impl Options {
    pub fn has(&self, part: Part) -> bool {
        self.parts.contains(&part)
    }

    /// Whether any part needs the server binary.
    pub fn runs_server(&self) -> bool {
        [Part::Chat, Part::Me, Part::SignIn]
            .iter()
            .any(|&p| self.has(p))
    }

    /// How long each measured step lasts.
    pub fn step(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    /// Accounts enough for the sign-in steps at up to 150 sign-ins a second (argon2id keeps a
    /// 2-core machine far below that), 5 sign-ins each.
    pub fn sign_in_accounts(&self) -> usize {
        let steps = self.connections.len() as u64;
        (150 * self.seconds * steps).div_ceil(crate::load::SIGN_INS_PER_ACCOUNT as u64) as usize
    }
}

pub fn parse(args: &[String], soak: bool) -> Result<Options, String> {
    let mut o = Options {
        server: PathBuf::new(),
        root: PathBuf::from("."),
        out: None,
        cargo: PathBuf::from("cargo"),
        extraction_bin: None,
        rollover_bin: None,
        seconds: 6,
        connections: vec![1, 16, 64],
        backends: if soak {
            vec![Backend::Sqlite]
        } else {
            vec![Backend::Sqlite, Backend::MysqlRedis]
        },
        people: 64,
        parts: Part::ALL.to_vec(),
        build: Duration::ZERO,
        invoked_as: "botpsicologo-bench".into(),
        minutes: 10,
        rate: 50,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: a whole number, not {v:?}"))
        };
        match flag.as_str() {
            "--server" => o.server = value()?.into(),
            "--root" => o.root = value()?.into(),
            "--out" => o.out = Some(value()?.into()),
            "--cargo" => o.cargo = value()?.into(),
            "--extraction-bin" => o.extraction_bin = Some(value()?.into()),
            "--rollover-bin" => o.rollover_bin = Some(value()?.into()),
            "--seconds" => o.seconds = number(value()?)?,
            "--people" => o.people = number(value()?)? as usize,
            "--build-seconds" => o.build = Duration::from_secs(number(value()?)?),
            "--minutes" if soak => o.minutes = number(value()?)?,
            "--rate" if soak => {
                o.rate = u32::try_from(number(value()?)?).map_err(|_| "--rate: too large")?
            }
            "--connections" => o.connections = list(&value()?, flag, |n| n.parse().ok())?,
            "--backends" => {
                o.backends = list(&value()?, flag, |b| {
                    [Backend::Sqlite, Backend::MysqlRedis]
                        .into_iter()
                        .find(|x| x.tag() == b)
                })?
            }
            "--parts" => {
                o.parts = list(&value()?, flag, |p| {
                    Part::ALL.into_iter().find(|x| x.name() == p)
                })?
            }
            "--invoked-as" => o.invoked_as = value()?,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if (soak || o.runs_server()) && o.server.as_os_str().is_empty() {
        return Err(format!("--server is required\n{USAGE}"));
    }
    if o.people == 0
        || o.connections.contains(&0)
        || o.seconds == 0
        || o.minutes == 0
        || o.rate == 0
    {
        return Err(
            "--people, --connections, --seconds, --minutes and --rate must be positive".into(),
        );
    }
    Ok(o)
}

/// A comma-separated list, each item read by `item`.
fn list<T>(text: &str, flag: &str, item: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    let items: Vec<T> = text
        .split(',')
        .map(|x| item(x.trim()).ok_or(format!("{flag}: unknown item {:?}\n{USAGE}", x.trim())))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(format!("{flag}: empty list"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn picks_parts_and_rejects_unknown_ones() {
        let o = parse(&args("--parts limiter,rollover --seconds 2"), false).expect("valid");
        assert_eq!(o.parts, vec![Part::Limiter, Part::Rollover]);
        assert!(
            !o.runs_server(),
            "no --server needed without the server parts"
        );
        assert_eq!(o.seconds, 2);
        let e = parse(&args("--parts chat,bogus --server x"), false)
            .err()
            .expect("invalid");
        assert!(e.contains("unknown item \"bogus\""), "{e}");
        assert!(
            parse(&args("--parts chat"), false).is_err(),
            "chat needs --server"
        );
        assert!(parse(&args("--seconds 0 --parts limiter"), false).is_err());
    }

    #[test]
    fn soak_flags_only_for_the_soak() {
        let o = parse(&args("--server s --minutes 3 --rate 20"), true).expect("valid");
        assert_eq!((o.minutes, o.rate), (3, 20));
        assert_eq!(o.backends, vec![Backend::Sqlite]);
        assert!(parse(&args("--server s --minutes 3"), false).is_err());
    }
}
