"""The sandbox as a command: what code inside sees (needs root and bubblewrap, as CI has)."""

import subprocess
import sys
from pathlib import Path

from tre import sandbox


def inside(box: sandbox.Sandbox, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(box.command(list(argv)), capture_output=True, text=True, timeout=60)


def test_software_under_tmp_is_seen_and_an_instance_inside_it_is_not(tmp_path):
    """A checkout under /tmp works (the sandbox's own /tmp is mounted first), and an instance
    kept inside the bound software (a demo in the checkout) is covered."""
    kit = tmp_path / "kit"
    (kit / "demo-instance" / "keys").mkdir(parents=True)
    (kit / "code.py").write_text("x = 1")
    (kit / "demo-instance" / "keys" / "secret.key").write_text("secret")
    for folder in (tmp_path, kit, kit / "demo-instance"):
        folder.chmod(0o755)
    box = sandbox.Sandbox(
        account=sandbox.ensure_account("alex.analyst").pw_name,
        mounts=(),
        hidden=(kit / "demo-instance",),
        software=(kit, Path(sys.base_prefix), Path(sys.prefix)),
        workdir="/",
    )
    seen = inside(box, "cat", str(kit / "code.py"))
    assert seen.returncode == 0 and seen.stdout == "x = 1", seen.stderr
    hidden = inside(box, "ls", "-A", str(kit / "demo-instance"))
    assert hidden.returncode == 0 and hidden.stdout == "", hidden.stdout
    assert inside(box, "id", "-u").stdout.strip() != "0"


def test_group_names_never_collide_with_accounts_or_each_other():
    long_a, long_b = "a" * 29 + "x", "a" * 29 + "y"
    assert sandbox.group_name(long_a) != sandbox.group_name(long_b)
    assert all(len(sandbox.group_name(p)) <= 32 for p in (long_a, "p"))
    assert not sandbox.group_name("p").startswith(sandbox.ACCOUNT_PREFIX)


def test_the_kits_packages_are_bound_not_the_checkout_that_holds_them():
    """The checkout may be a folder only root enters (a clone in a 0700 folder, under /root)
    and holds more than code (a demo instance, .git): only its packages go into the sandbox."""
    import tre

    checkout = Path(tre.__file__).resolve().parents[1]
    paths = sandbox.software_paths()
    assert Path(tre.__file__).resolve().parent in paths and checkout not in paths
    assert not any(p.name in ("tests", ".git", "demo-instance") for p in paths)


def test_root_replaces_a_file_in_a_persons_folder_never_writing_through_a_link(tmp_path):
    from tre.sandbox import write_inside

    secret = tmp_path / "secret"
    secret.write_text("root's")
    space = tmp_path / "space"
    space.mkdir()
    (space / "page.md").symlink_to(secret)
    assert not write_inside(space, "page.md", b"new")  # without replace: left alone
    assert write_inside(space, "page.md", b"new", replace=True)
    assert secret.read_text() == "root's" and not (space / "page.md").is_symlink()
    assert (space / "page.md").read_text() == "new"
    (space / "folder.md").mkdir()
    assert not write_inside(space, "folder.md", b"x", replace=True)  # a folder stays
    assert sorted(p.name for p in space.iterdir()) == ["folder.md", "page.md"]
