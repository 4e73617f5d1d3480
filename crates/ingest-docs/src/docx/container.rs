//! The zip container of a DOCX, read part by part under a decompression budget.

use crate::Limits;
use domain::library::ExtractError;
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// Ratios only matter once a part is big enough to hurt.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Reads zip parts while counting the bytes that really come out of the decompressor, so
/// that lying headers cannot hide a zip bomb.
pub(super) struct Parts<'a> {
    pub(super) archive: ZipArchive<Cursor<&'a [u8]>>,
    pub(super) used: u64,
    pub(super) limits: &'a Limits,
}

impl Parts<'_> {
    pub(super) fn read(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        let mut file = match self.archive.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(ExtractError::Malformed(format!("cannot read {name}: {e}"))),
        };
        let compressed = file.compressed_size().max(1);
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = file
                .read(&mut chunk)
                .map_err(|e| ExtractError::Malformed(format!("cannot decompress {name}: {e}")))?;
            if n == 0 {
                break;
            }
            self.used += n as u64;
            if self.used > self.limits.max_uncompressed_bytes {
                return Err(ExtractError::TooLarge(format!(
                    "decompresses to more than {} bytes (zip bomb?)",
                    self.limits.max_uncompressed_bytes
                )));
            }
            let part = out.len() as u64 + n as u64;
            if part > RATIO_FLOOR && part / compressed > self.limits.max_compression_ratio {
                return Err(ExtractError::TooLarge(format!(
                    "{name} expands more than {}x (zip bomb?)",
                    self.limits.max_compression_ratio
                )));
            }
            out.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8(out)
            .map(Some)
            .map_err(|_| ExtractError::Malformed(format!("{name} is not UTF-8 XML")))
    }
}
