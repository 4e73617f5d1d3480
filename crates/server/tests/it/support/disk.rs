//! A data directory of a test's own on a small tmpfs, to fill up or make read-only: how the
//! fault tests make SQLite's storage fail under a running server.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small tmpfs mounted for the test (needs root, as CI has); unmounted on drop.
pub struct Mount(pub PathBuf);

impl Mount {
    pub fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "cannot mount a tmpfs under CI=true (the fault tests need root)"
            );
            eprintln!("SKIPPED: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }

    pub fn remount(&self, mode: &str) {
        let done = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(done.success(), "remount {mode}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` until writes fail; returns the filler file.
pub fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    path
}
