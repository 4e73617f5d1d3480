//! The report archive on disk: `<data_dir>/reports/<company_id>/<YYYY-MM>.csv`.
//!
//! Each file is written to a temporary name and renamed, so a reader (or a scheduler killed
//! mid-write) never sees half a report. Reports list people and their usage, so files are
//! readable by the service's user only.

use domain::ports::{ReportArchive, StoreError, StoreResult};
use domain::services::reports::report_month;
use domain::{CompanyId, Period};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileReports {
    root: PathBuf,
}

impl FileReports {
    pub fn new(data_dir: &Path) -> FileReports {
        FileReports {
            root: data_dir.join("reports"),
        }
    }

    fn dir(&self, company: CompanyId) -> PathBuf {
        self.root.join(company.to_string())
    }

    fn path(&self, company: CompanyId, period: Period) -> PathBuf {
        self.dir(company).join(format!("{}.csv", period.label()))
    }

    /// Runs file work on the blocking pool, mapping I/O errors to the store's error.
    async fn blocking<T: Send + 'static>(
        work: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| StoreError::Unavailable(format!("report files: {e}")))?
            .map_err(|e| StoreError::Unavailable(format!("report files: {e}")))
    }
}

impl ReportArchive for FileReports {
    async fn put_reports(
        &self,
        period: Period,
        reports: Vec<(CompanyId, Vec<u8>)>,
    ) -> StoreResult<u64> {
        let mut paths: Vec<(PathBuf, Vec<u8>)> = reports
            .into_iter()
            .map(|(company, csv)| (self.path(company, period), csv))
            .collect();
        // Creating files and directories is CPU time in the kernel's inode allocator (most of a
        // first rollover on ext4 without a journal: BENCHMARKS.md), so a batch is shared among a
        // few blocking tasks; a batch is only hundreds of small files, hence at most four.
        let writers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per_writer = paths.len().div_ceil(writers).max(1);
        let mut tasks = Vec::with_capacity(writers);
        while !paths.is_empty() {
            let share = paths.split_off(paths.len().saturating_sub(per_writer));
            tasks.push(Self::blocking(move || {
                let mut changed = 0;
                for (path, csv) in share {
                    if write_if_changed(&path, &csv)? {
                        changed += 1;
                    }
                }
                Ok(changed)
            }));
        }
        let mut changed = 0;
        for written in futures::future::join_all(tasks).await {
            changed += written?;
        }
        Ok(changed)
    }

    async fn get_report(&self, company: CompanyId, period: Period) -> StoreResult<Option<Vec<u8>>> {
        let path = self.path(company, period);
        Self::blocking(move || match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn list_reports(&self, company: CompanyId) -> StoreResult<Vec<String>> {
        let dir = self.dir(company);
        Self::blocking(move || {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let mut months = Vec::new();
            for entry in entries {
                let name = entry?.file_name();
                let label = name.to_string_lossy();
                if let Some(month) = label.strip_suffix(".csv")
                    && report_month(month).is_ok()
                {
                    months.push(month.to_string());
                }
            }
            months.sort_unstable_by(|a, b| b.cmp(a));
            Ok(months)
        })
        .await
    }
}

/// Writes `bytes` to `path` unless the file holds them already; returns whether it wrote.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let same_size = fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if same_size && fs::read(path)? == bytes {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    // Unique per process, so two writers (a lease taken over mid-write) never share a temp file.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    drop(file);
    fs::rename(&tmp, path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn month(m: u32) -> Period {
        Period::calendar_month(Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap())
    }

    #[tokio::test]
    async fn writes_once_reads_back_and_lists_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileReports::new(dir.path());
        let c = CompanyId(7);
        assert_eq!(files.get_report(c, month(3)).await.unwrap(), None);
        assert_eq!(files.list_reports(c).await.unwrap(), Vec::<String>::new());
        let put = |m, csv: &[u8]| files.put_reports(month(m), vec![(c, csv.to_vec())]);
        assert_eq!(put(3, b"a,b\n").await.unwrap(), 1);
        assert_eq!(put(3, b"a,b\n").await.unwrap(), 0, "identical: untouched");
        assert_eq!(put(3, b"a,c\n").await.unwrap(), 1, "same size, new content");
        assert_eq!(put(4, b"x\n").await.unwrap(), 1);
        assert_eq!(
            files.get_report(c, month(3)).await.unwrap().as_deref(),
            Some(&b"a,c\n"[..])
        );
        assert_eq!(files.list_reports(c).await.unwrap(), ["2026-04", "2026-03"]);
        let path = dir.path().join("reports/7/2026-03.csv");
        assert!(path.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "reports hold personal data");
        }
    }
}
