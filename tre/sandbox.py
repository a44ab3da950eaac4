"""The sandbox for code an analyst wrote: a non-root account of its own, a filesystem that holds
only the software and one project's folders, and (for kernels) no network.

Made from the operating system's own means, with Debian's ``bubblewrap`` (``bwrap``) and
util-linux's ``setpriv``:

1. ``bwrap``, started by root (the hub, or the runner), makes a new mount, PID, IPC and UTS
   namespace whose root is an empty tmpfs. Into it go, read-only, the system (``/usr``, ``/etc``),
   the Python installation and the kit's own code; then the project's extract (read-only) and the
   person's workspace and outputs (read-write), at fixed paths under ``/tre``. The instance's home
   is covered by an empty tmpfs wherever it lies inside a bound folder, so the database, keys,
   identifiers, store, other projects, releases and the hub's state are not there at all.
2. ``setpriv`` then drops to the person's own system account (``tre-<username>``, made on first
   use), clears every capability and supplementary group but the project's, and sets
   ``no_new_privs``, so nothing in the sandbox can gain root back (no setuid binary works).
3. Each kernel is started by that account in a second ``bwrap`` with its own, empty network
   namespace (``--unshare-net`` in an unprivileged user namespace): it talks to its Jupyter server
   over Unix sockets (jupyter_client's ``ipc`` transport) and reaches nothing else.

What it does not do: limit CPU, memory or disk (use the Docker or Kubernetes profile, or systemd
slices), or stop what a person can read on their screen.
"""

from __future__ import annotations

import errno
import grp
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tre.errors import TreError

ROOT = "/tre"  # where the project's folders appear inside the sandbox
DATA = f"{ROOT}/data"
WORKSPACE = f"{ROOT}/workspace"
OUTPUTS = f"{ROOT}/outputs"
# the extract again, read-only, as a folder of the workspace (so that JupyterLab's file browser
# shows where the data is; its files' content is never sent to the browser: hub.lockdown)
DATA_FOLDER = "project-data"
ACCOUNT_PREFIX = "tre-"
NOLOGIN = "/usr/sbin/nologin"


class SandboxError(TreError):
    """The sandbox cannot be made here; nothing of the analyst's was started."""

    exit_code = 2


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Sandbox:
    """One sandbox: who runs in it, and what it sees."""

    account: str
    mounts: tuple[Mount, ...]
    hidden: tuple[Path, ...] = ()
    group: str | None = None
    workdir: str = WORKSPACE
    software: tuple[Path, ...] = field(default_factory=lambda: tuple(software_paths()))

    def command(self, argv: Sequence[str]) -> list[str]:
        """ARGV run in this sandbox (by root: bwrap needs it to mount, setpriv to drop)."""
        args = [bwrap(), "--tmpfs", "/", "--perms", "0755", "--dir", "/usr"]
        args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for name in ("bin", "lib", "lib64", "sbin"):
            target = Path("/") / name
            if target.is_symlink():
                args += ["--symlink", os.readlink(target), str(target)]
            elif target.is_dir():
                args += ["--ro-bind", str(target), str(target)]
        # the sandbox's own /tmp first, so that software installed under /tmp is bound over it
        args += ["--perms", "1777", "--tmpfs", "/tmp"]
        for path in _outermost(p for p in self.software if not _under_system(p)):
            args += _dirs(path.parent) + ["--ro-bind", str(path), str(path)]
        for path in self.hidden:
            if any(_inside(path, s) for s in self.software) and path.exists():
                args += ["--tmpfs", str(path)]
        args += ["--dev", "/dev", "--proc", "/proc"]
        args += ["--perms", "0755", "--dir", ROOT]
        made = {"/", "/tmp", ROOT}
        for mount in self.mounts:
            # bwrap would make a missing parent root-only: make each one listable first
            for parent in reversed(Path(mount.target).parents):
                if str(parent) not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.target]
            made.add(mount.target)  # a mount inside it must not make it again (bwrap's --perms)
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        args += ["--new-session", "--chdir", self.workdir, "--"]
        groups = f"--groups={grp.getgrnam(self.group).gr_gid}" if self.group else "--clear-groups"
        user = pwd.getpwnam(self.account)
        args += [
            setpriv(),
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            groups,
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
        return args + list(argv)


# what the Jupyter server holds and its kernels do not: the person's hub token (the server's
# relay uses it; a kernel has no use for it, and could show it)
KERNEL_UNSET = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_CLIENT_ID")


def kernel_command(argv: Sequence[str]) -> list[str]:
    """ARGV (a kernel) without a network and without the hub token: run by the sandbox's
    account, inside the sandbox."""
    unset = [arg for name in KERNEL_UNSET for arg in ("--unsetenv", name)]
    return [
        bwrap(),
        "--dev-bind",  # the outer sandbox's own view, devices included (/dev/null)
        "/",
        "/",
        "--unshare-user",
        "--unshare-net",
        "--die-with-parent",
        *unset,
        "--",
        *argv,
    ]


def account_name(username: str) -> str:
    """The system account of a registered person (at most 32 characters, as useradd allows)."""
    name = ACCOUNT_PREFIX + username
    if len(name) <= 32:
        return name
    digest = hashlib.sha256(username.encode()).hexdigest()[:8]
    return f"{name[:23]}-{digest}"


GROUP_PREFIX = "trp-"  # never a person's account or its own group (those are tre-<username>)


def group_name(project: str) -> str:
    """The system group that may read one project's extract (at most 32 characters: a longer
    id is cut and given a hash of the whole, so two projects never share a group)."""
    name = GROUP_PREFIX + project
    if len(name) <= 32:
        return name
    return f"{name[:23]}-{hashlib.sha256(project.encode()).hexdigest()[:8]}"


# the hub prepares workspaces in worker threads (hub.config): two starts at once must not both
# run useradd or groupadd (the second would fail on /etc/passwd's lock, or find the name taken)
_ACCOUNTS = threading.Lock()


def ensure_account(username: str) -> pwd.struct_passwd:
    """The person's system account: made on first use, with no home, no login shell, no password."""
    name = account_name(username)
    with _ACCOUNTS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        _run(["useradd", "--system", "--no-create-home", "--shell", NOLOGIN, "--user-group", name])
        return pwd.getpwnam(name)


def ensure_group(project: str) -> grp.struct_group:
    name = group_name(project)
    with _ACCOUNTS:
        try:
            return grp.getgrnam(name)
        except KeyError:
            pass
        _run(["groupadd", "--system", name])
        return grp.getgrnam(name)


def give(path: Path, username: str) -> None:
    """PATH (a folder, made if missing) and everything in it, owned by the person's account."""
    user = ensure_account(username)
    path.mkdir(parents=True, exist_ok=True)
    _chown_tree(path, user.pw_uid, user.pw_gid)


def share_read_only(path: Path, project: str) -> None:
    """PATH (the project's extract) readable by the project's group and nobody else but root."""
    _chown_tree(path, 0, ensure_group(project).gr_gid)


MAX_DEPTH = 200  # folders nested deeper in a workspace are refused, not walked


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    """Re-own a folder the person may write in, as root, following no link, even one swapped in
    meanwhile. Each folder is entered by a descriptor opened relative to its parent's with
    O_DIRECTORY, O_NOFOLLOW and O_NONBLOCK: a link (to a folder, a FIFO, a device) or a FIFO
    put where a folder was listed is never entered and never blocks root; it is re-owned itself
    (relative to the parent's descriptor, not following it). What the person removes meanwhile
    is left alone (there is nothing to re-own)."""
    try:
        top = os.open(path, _WALK_DIR)
    except OSError as error:
        raise SandboxError(
            f"{path} is not a plain folder ({error.strerror}): nothing re-owned"
        ) from error
    try:
        os.fchown(top, uid, gid)
        _chown_inside(top, uid, gid, 1)
    finally:
        os.close(top)


_WALK_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _chown_inside(folder: int, uid: int, gid: int, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SandboxError(
            f"the workspace has folders nested more than {MAX_DEPTH} deep: move or remove them"
        )
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        try:
            inner = os.open(name, _WALK_DIR, dir_fd=folder)
        except FileNotFoundError:
            continue
        except OSError as error:
            if error.errno not in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                raise
            try:  # not a folder (a file, a link, a FIFO…): re-owned itself, never followed
                os.chown(name, uid, gid, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                pass
            continue
        try:
            os.fchown(inner, uid, gid)
            _chown_inside(inner, uid, gid, depth + 1)
        finally:
            os.close(inner)


# Root reading or writing in a folder the person controls never follows a link: each part of the
# path is opened relative to the one before, with O_NOFOLLOW (a link anywhere is refused).
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _open_folder(root: Path, parts: Sequence[str], make: bool = False) -> int:
    descriptor = os.open(root, _NOFOLLOW_DIR)
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise SandboxError(f"{part!r}: not a plain name")
            if make:
                try:
                    os.mkdir(part, 0o755, dir_fd=descriptor)
                except FileExistsError:
                    pass
            inner = os.open(part, _NOFOLLOW_DIR, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_inside(root: Path, relative: str, limit: int = 50 << 20) -> bytes:
    """The bytes of the regular file RELATIVE under ROOT, following no link on the way. Opened
    without waiting (a FIFO the workspace made would otherwise block the caller until someone
    writes to it) and refused unless it is a regular file."""
    *folders, name = relative.split("/")
    try:
        folder = _open_folder(root, folders)
        try:
            descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise SandboxError(f"{relative}: not a file of the workspace ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SandboxError(
                f"{relative}: not a regular file (a pipe, device or folder); only regular "
                "files are read from the workspace"
            )
        os.set_blocking(handle.fileno(), True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise SandboxError(f"{relative}: larger than {limit >> 20} MB")
    return data


def write_inside(root: Path, relative: str, data: bytes, replace: bool = False) -> bool:
    """Create RELATIVE under ROOT with DATA, following no link and replacing nothing (a name
    already there, a dangling link included, is left alone); False when it was there.
    REPLACE: a file (or link) of that name is replaced (renamed over, never written through);
    a folder of that name is still left alone."""
    *folders, name = relative.split("/")
    try:
        folder = _open_folder(root, folders, make=True)
    except OSError:
        return False  # a part of the path is a link or not a folder: nothing is written
    target = f".{name}.tre-new" if replace else name
    try:
        try:
            if replace:
                os.unlink(target, dir_fd=folder)  # a leftover (or a planted link) goes first
        except FileNotFoundError:
            pass
        try:
            descriptor = os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder
            )
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        if replace:
            try:
                os.replace(target, name, src_dir_fd=folder, dst_dir_fd=folder)
            except OSError:  # a folder of that name: the person's, left alone
                os.unlink(target, dir_fd=folder)
                return False
    finally:
        os.close(folder)
    return True


def make_mount_point(root: Path, name: str) -> None:
    """An empty folder NAME in ROOT (a folder the person controls) for something mounted over
    it: a link or a file of that name is removed first (root follows no link); a folder stays."""
    folder = os.open(root, _NOFOLLOW_DIR)
    try:
        try:
            found = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            found = None
        if found is not None and not stat.S_ISDIR(found.st_mode):
            os.unlink(name, dir_fd=folder)
            found = None
        if found is None:
            os.mkdir(name, 0o755, dir_fd=folder)
    finally:
        os.close(folder)


def software_paths() -> list[Path]:
    """What code in the sandbox needs to run: the Python installation, the virtual environment
    and the kit's own packages (an editable install's source). Each package folder is bound, not
    the checkout that holds them: the checkout may be a folder only root may enter (a clone in a
    0700 folder, or under /root), and holds other things (an instance of the demo, .git)."""
    here = Path(__file__).resolve().parents[1]
    packages = {p for p in here.iterdir() if (p / "__init__.py").is_file()}
    return sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), *packages})


def check_available() -> None:
    """Refuse (with what to do) when this machine cannot make the sandbox."""
    if os.geteuid() != 0:
        raise SandboxError(
            "the workspace sandbox needs root to make namespaces and per-person accounts: run "
            "the hub as root (or choose the docker or k8s profile in tre.toml)"
        )
    for tool in ("bwrap", "setpriv", "useradd", "groupadd"):
        if shutil.which(tool) is None:
            raise SandboxError(
                f"{tool} is missing: install Debian's bubblewrap, util-linux and passwd packages "
                "(`apt-get install bubblewrap`), then start the hub again"
            )


def bwrap() -> str:
    return shutil.which("bwrap") or "bwrap"


def setpriv() -> str:
    return shutil.which("setpriv") or "setpriv"


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxError(f"`{' '.join(argv)}` failed: {done.stderr.strip()}")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _under_system(path: Path) -> bool:
    return any(_inside(path, Path(p)) for p in ("/usr", "/etc"))


def _outermost(paths: Iterable[Path]) -> list[Path]:
    chosen: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(_inside(path, c) for c in chosen):
            chosen.append(path)
    return chosen


def _dirs(folder: Path) -> list[str]:
    """bwrap arguments making FOLDER's ancestors (mode 0755) in the sandbox's empty root."""
    out: list[str] = []
    for parent in reversed([folder, *folder.parents]):
        if str(parent) not in ("/", "/tmp"):
            out += ["--perms", "0755", "--dir", str(parent)]
    return out
