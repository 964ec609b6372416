"""SSH signatures on release tags, made and checked with git's own SSH signing.

A tag object is signed the way `git tag -s` does it with `gpg.format=ssh`: the signature of
`ssh-keygen -Y sign -n git` over the tag's bytes is appended to them. It is checked with
`git verify-tag` against the registry's allowed-signers file, as main holds it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from gitreg.errors import RegistryError, ToolMissing
from gitreg.store.git import Git

KEY_ENV = "GITREG_SIGNING_KEY"


def signing_key(git: Git) -> str | None:
    """The private key to sign with: GITREG_SIGNING_KEY (a path, or the key itself), else
    git's `user.signingkey`."""
    return os.environ.get(KEY_ENV) or git.config_get("user.signingkey")


def sign(payload: bytes, key: str) -> bytes:
    """The SSH signature (armored) of `payload`, for appending to a tag object."""
    with tempfile.TemporaryDirectory(prefix="gitreg-sign-") as tmp:
        path = key
        if "PRIVATE KEY-----" in key:  # the key itself, e.g. from an Actions secret
            path = os.path.join(tmp, "key")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key.strip() + "\n")
        try:
            proc = subprocess.run(
                ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", path],
                input=payload,
                capture_output=True,
            )
        except FileNotFoundError as e:
            raise ToolMissing("ssh-keygen", "install OpenSSH (openssh-client)") from e
    if proc.returncode != 0:
        raise RegistryError(
            f"could not sign the release tags: {proc.stderr.decode(errors='replace').strip()}",
            f"set {KEY_ENV} to the path of an SSH private key (or the key itself)",
        )
    return proc.stdout


def verify(git: Git, tag: str, allowed_signers: bytes) -> str | None:
    """Why `tag`'s signature does not hold against `allowed_signers`, or None if it does."""
    with tempfile.TemporaryDirectory(prefix="gitreg-verify-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_bytes(allowed_signers)
        config = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}"]
        proc = git.attempt([*config, "verify-tag", "--raw", "--", f"refs/tags/{tag}"])
    if proc.returncode == 0:
        return None
    said = proc.stderr.decode(errors="replace").strip().splitlines()
    if any("no signature found" in line.lower() for line in said):
        return "unsigned: gitreg.yaml `signing` asks for SSH-signed release tags"
    return "bad signature: " + (said[-1] if said else "git verify-tag refused it")
