//! Writing report files safely. A command's output folder is one unit: everything goes into a
//! fresh hidden sibling folder (`.<name>.tmp-<pid>`), and only once every file is written does
//! that folder replace the output folder (the old one is renamed aside, the new one renamed
//! into place, the old one removed). A run that fails or is interrupted therefore leaves the
//! previous folder exactly as it was, and a finished run leaves exactly its own files.
//!
//! Temporaries being written are registered so that a signal handler can remove them
//! ([`abandon_temporaries`]); those of processes that died without cleaning up (`kill -9`, a
//! power cut) are removed by the next run beside the same folder.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Output folders being written by this process, removed if it is interrupted.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Files a vanish output folder may hold (by extension); anything else in a folder means it is
/// not ours to replace.
const OUTPUT_EXTENSIONS: [&str; 8] = [
    "json", "csv", "parquet", "html", "txt", "png", "svg", "toml",
];

/// One of these marks a folder as a previous vanish output.
const REPORT_FILES: [&str; 3] = ["report.json", "compare.json", "sweep.json"];

/// Why an output folder cannot be used: bad input, reported with the path.
#[derive(Debug, thiserror::Error)]
#[error("--out {path}: {reason}")]
pub struct FolderError {
    pub path: PathBuf,
    pub reason: String,
}

fn refuse(path: &Path, reason: impl Into<String>) -> FolderError {
    FolderError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The registry of temporaries; a panic elsewhere never makes it unusable.
fn temporaries() -> MutexGuard<'static, Vec<PathBuf>> {
    TEMPORARIES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every output folder this process is still writing, and keeps the registry locked
/// while the guard lives, so that no folder is swapped in after this: hold it until the
/// process exits.
pub fn abandon_temporaries() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut live = temporaries();
    for path in live.drain(..) {
        let _ = fs::remove_dir_all(&path);
    }
    live
}

/// An output folder being written: files go under [`OutputFolder::path`]; `commit` swaps it in
/// whole, dropping it without committing removes it and leaves the old folder as it was.
pub struct OutputFolder {
    /// The folder as the user named it, for messages.
    shown: PathBuf,
    /// The real folder it resolves to.
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl OutputFolder {
    /// Checks `target` (a folder, or a new one in a folder that can be written) and starts a
    /// fresh folder beside it.
    pub fn begin(target: &Path) -> Result<OutputFolder, FolderError> {
        let resolved = resolve(target)?;
        check_replaceable(target, &resolved)?;
        let (parent, name) = parent_and_name(&resolved);
        remove_stale(&parent, &name, &resolved);
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut live = temporaries();
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir(&staging).map_err(|error| {
            refuse(
                target,
                format!("cannot write in {}: {error}", parent.display()),
            )
        })?;
        live.push(staging.clone());
        Ok(OutputFolder {
            shown: target.to_path_buf(),
            target: resolved,
            staging,
            committed: false,
        })
    }

    /// Where to write this run's files.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The output folder as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Replaces the output folder with the one written.
    pub fn commit(mut self) -> io::Result<()> {
        let mut live = temporaries();
        // Interrupted meanwhile: the handler removed the folder and the process is ending.
        if !live.contains(&self.staging) {
            return Err(io::Error::other("interrupted"));
        }
        swap_in(&self.staging, &self.target)?;
        live.retain(|path| path != &self.staging);
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputFolder {
    fn drop(&mut self) {
        if !self.committed {
            let mut live = temporaries();
            let _ = fs::remove_dir_all(&self.staging);
            live.retain(|path| path != &self.staging);
        }
    }
}

/// The real path of the output folder, creating the folders above it if needed.
fn resolve(target: &Path) -> Result<PathBuf, FolderError> {
    match fs::metadata(target) {
        Ok(metadata) if metadata.is_dir() => {
            fs::canonicalize(target).map_err(|error| refuse(target, error.to_string()))
        }
        Ok(metadata) if metadata.is_file() => Err(refuse(target, "is a file, not a folder")),
        Ok(_) => Err(refuse(
            target,
            "is not a folder (a device or other special file)",
        )),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            let name = target
                .file_name()
                .ok_or_else(|| refuse(target, "names no folder"))?;
            let parent = match target.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            fs::create_dir_all(parent).map_err(|error| {
                let reason = match parent.ancestors().find(|above| above.is_file()) {
                    Some(file) => format!("{} is a file, not a folder", file.display()),
                    None => format!("cannot create {}: {error}", parent.display()),
                };
                refuse(target, reason)
            })?;
            let parent = fs::canonicalize(parent).map_err(|error| {
                refuse(target, format!("cannot use {}: {error}", parent.display()))
            })?;
            Ok(parent.join(name))
        }
        Err(error) => Err(refuse(target, error.to_string())),
    }
}

fn parent_and_name(resolved: &Path) -> (PathBuf, String) {
    let parent = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
    let name = resolved.file_name().map_or_else(
        || "output".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    (parent, name)
}

/// An existing folder is replaced whole, so it must be empty or a previous vanish output: a
/// folder holding anything else is refused rather than lost.
fn check_replaceable(target: &Path, resolved: &Path) -> Result<(), FolderError> {
    if !resolved.exists() {
        return Ok(());
    }
    if resolved.parent().is_none() {
        return Err(refuse(target, "is the root folder"));
    }
    let here = std::env::current_dir().and_then(fs::canonicalize);
    if here.is_ok_and(|here| here.starts_with(resolved)) {
        return Err(refuse(
            target,
            "is the current folder or holds it; vanish replaces its output folder whole",
        ));
    }
    let metadata = fs::metadata(resolved).map_err(|error| refuse(target, error.to_string()))?;
    if metadata.permissions().readonly() {
        return Err(refuse(target, "is read-only"));
    }
    let entries = fs::read_dir(resolved).map_err(|error| refuse(target, error.to_string()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| refuse(target, error.to_string()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if !is_file || !is_output_file(&name) {
            return Err(foreign(target, &name));
        }
        names.push(name);
    }
    if !names.is_empty()
        && !names
            .iter()
            .any(|name| REPORT_FILES.contains(&name.as_str()))
    {
        names.sort();
        return Err(foreign(target, &names[0]));
    }
    Ok(())
}

fn foreign(target: &Path, name: &str) -> FolderError {
    refuse(
        target,
        format!(
            "holds {name}, which is not part of a vanish report; vanish replaces its output \
             folder whole, so name a new or empty folder or a previous report's"
        ),
    )
}

/// A file vanish writes in an output folder, or one of its temporaries.
fn is_output_file(name: &str) -> bool {
    if name.starts_with('.') {
        return name.rsplit_once(".tmp-").is_some();
    }
    Path::new(name)
        .extension()
        .is_some_and(|extension| OUTPUT_EXTENSIONS.iter().any(|e| extension == *e))
}

/// Renames `staging` over `target`; the old folder is put aside first and removed last, and put
/// back if the new one cannot take its place.
fn swap_in(staging: &Path, target: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(staging, target);
    }
    let (parent, name) = parent_and_name(target);
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&old);
    fs::rename(target, &old)?;
    if let Err(error) = fs::rename(staging, target) {
        let _ = fs::rename(&old, target);
        return Err(error);
    }
    // The new report is in place; an old folder that resists removal is a stale temporary
    // the next run removes.
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// The process id in the name of one of our temporaries for output folder `name`, and whether
/// it is an old folder put aside (rather than a new one being written).
fn temporary_owner(file_name: &str, name: &str) -> Option<(u32, bool)> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(name)?;
    let (pid, old) = match (rest.strip_prefix(".tmp-"), rest.strip_prefix(".old-")) {
        (Some(pid), _) => (pid, false),
        (None, Some(pid)) => (pid, true),
        (None, None) => return None,
    };
    Some((pid.parse().ok()?, old))
}

/// Whether process `pid` may still be running (and writing its temporary). Where there is no
/// `/proc` to ask, every process counts as alive and nothing is removed.
fn may_be_alive(pid: u32) -> bool {
    if pid == std::process::id() || !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temporaries of dead processes beside output folder `name`. An old folder put
/// aside by a process that died before swapping its new one in is the output folder itself:
/// it goes back into place.
fn remove_stale(parent: &Path, name: &str, target: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((pid, old)) = temporary_owner(&file_name, name) else {
            continue;
        };
        if may_be_alive(pid) {
            continue;
        }
        let path = entry.path();
        if old && fs::symlink_metadata(target).is_err() && fs::rename(&path, target).is_ok() {
            continue;
        }
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            let _ = fs::remove_dir_all(&path);
        } else {
            let _ = fs::remove_file(&path);
        }
    }
}

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

    /// A second handle on the file, to sync what is written so far from another thread: the
    /// sync at `commit` then has little left to wait for.
    pub fn sync_handle(&self) -> io::Result<File> {
        self.writer.get_ref().try_clone()
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

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vanish-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_uncommitted_file_leaves_the_previous_one_untouched() {
        let dir = fresh_dir("pending");
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

    #[test]
    fn a_committed_folder_replaces_the_old_one_whole() {
        let dir = fresh_dir("swap");
        let out = dir.join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("report.json"), "old").unwrap();
        fs::write(out.join("info-replica-1.txt"), "old").unwrap();
        let folder = OutputFolder::begin(&out).unwrap();
        write_atomic(&folder.path().join("report.json"), b"new").unwrap();
        assert_eq!(fs::read(out.join("report.json")).unwrap(), b"old");
        folder.commit().unwrap();
        assert_eq!(listing(&out), ["report.json"]);
        assert_eq!(fs::read(out.join("report.json")).unwrap(), b"new");
        assert_eq!(listing(&dir), ["out"], "no temporary is left beside it");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_folder_leaves_the_old_one_as_it_was() {
        let dir = fresh_dir("abandon");
        let out = dir.join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("report.json"), "old").unwrap();
        {
            let folder = OutputFolder::begin(&out).unwrap();
            write_atomic(&folder.path().join("report.json"), b"new").unwrap();
        }
        assert_eq!(listing(&out), ["report.json"]);
        assert_eq!(fs::read(out.join("report.json")).unwrap(), b"old");
        assert_eq!(listing(&dir), ["out"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_folder_holding_other_files_is_not_replaced() {
        let dir = fresh_dir("foreign");
        let out = dir.join("notes");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("report.json"), "{}").unwrap();
        fs::write(out.join("thesis.md"), "mine").unwrap();
        let error = OutputFolder::begin(&out).err().unwrap();
        assert!(error.to_string().contains("holds thesis.md"), "{error}");
        fs::remove_file(out.join("thesis.md")).unwrap();
        fs::write(out.join("scenario.toml"), "").unwrap();
        fs::remove_file(out.join("report.json")).unwrap();
        let error = OutputFolder::begin(&out).err().unwrap();
        assert!(error.to_string().contains("holds scenario.toml"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_are_recognised_by_name_and_pid() {
        assert_eq!(temporary_owner(".out.tmp-42", "out"), Some((42, false)));
        assert_eq!(temporary_owner(".out.old-7", "out"), Some((7, true)));
        assert_eq!(temporary_owner(".out.tmp-x", "out"), None);
        assert_eq!(temporary_owner(".outer.tmp-42", "out"), None);
        assert_eq!(temporary_owner("out.tmp-42", "out"), None);
    }

    #[test]
    fn an_old_folder_put_aside_by_a_dead_process_goes_back() {
        let dir = fresh_dir("restore");
        // Pid 0 is never a process that can own a folder.
        let aside = dir.join(".out.old-0");
        fs::create_dir(&aside).unwrap();
        fs::write(aside.join("report.json"), "old").unwrap();
        remove_stale(&dir, "out", &dir.join("out"));
        assert_eq!(listing(&dir), ["out"]);
        assert_eq!(listing(&dir.join("out")), ["report.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
