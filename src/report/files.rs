//! Writing report files safely: each file goes to a temporary name in the output folder and is
//! renamed over the final name only once complete.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written under a temporary name; `commit` renames it into place, dropping it
/// without committing removes it.
pub struct PendingFile {
    temporary: PathBuf,
    target: PathBuf,
    writer: BufWriter<File>,
    committed: bool,
}

impl PendingFile {
    pub fn create(target: &Path) -> io::Result<PendingFile> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".to_string());
        let temporary = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&temporary)?;
        Ok(PendingFile {
            temporary,
            target: target.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 20, file),
            committed: false,
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    pub fn commit(mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        fs::rename(&self.temporary, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Writes a whole file at once, atomically.
pub fn write_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut pending = PendingFile::create(target)?;
    pending.writer().write_all(contents)?;
    pending.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncommitted_file_leaves_the_previous_one_untouched() {
        let dir = std::env::temp_dir().join(format!("vanish-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("report.json");
        write_atomic(&target, b"good").unwrap();
        {
            let mut pending = PendingFile::create(&target).unwrap();
            pending.writer().write_all(b"half-writ").unwrap();
            // dropped: a failed run
        }
        assert_eq!(fs::read(&target).unwrap(), b"good");
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temporary file is removed");
        fs::remove_dir_all(&dir).unwrap();
    }
}
