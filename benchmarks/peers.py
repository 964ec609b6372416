"""The peers' environments: GTO and MLflow each in a venv of its own under out/venvs/.

Created on first use with `python -m venv` and pip from the package index; reused after.
GTO comes from `pip install gto`; MLflow from `pip install mlflow-skinny sqlalchemy alembic`
(the sqlite store needs those two), else from `pip install mlflow`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _pip(venv: Path, *packages: str) -> bool:
    log = venv.parent / f"{venv.name}-install.log"
    with log.open("a") as fh:
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return proc.returncode == 0


def _venv(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)


def gto(out: Path) -> Path:
    """Path of the `gto` executable in its venv (installed on first use)."""
    venv = out / "venvs" / "gto"
    exe = venv / "bin" / "gto"
    if not exe.exists():
        print(f"installing gto into {venv} ...", file=sys.stderr)
        _venv(venv)
        if not _pip(venv, "gto"):
            raise RuntimeError(f"pip install gto failed; see {venv}-install.log")
    return exe


def mlflow(out: Path) -> Path:
    """Path of the python in MLflow's venv (installed on first use)."""
    venv = out / "venvs" / "mlflow"
    py = venv / "bin" / "python"
    check = [str(py), "-c", "import mlflow, sqlalchemy, alembic"]
    if not py.exists() or subprocess.run(check, capture_output=True).returncode != 0:
        print(f"installing mlflow into {venv} ...", file=sys.stderr)
        _venv(venv)
        if not (_pip(venv, "mlflow-skinny", "sqlalchemy", "alembic") or _pip(venv, "mlflow")):
            raise RuntimeError(f"pip install mlflow failed; see {venv}-install.log")
    return py


def _first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"


def versions(gto_exe: Path | None, mlflow_py: Path | None) -> dict[str, str]:
    out = {
        "python": sys.version.split()[0],
        "git": _first_line(["git", "--version"]).removeprefix("git version "),
        "gitreg": _first_line([str(BIN / "gitreg"), "--version"]).removeprefix("gitreg, version "),
        "dvc": _first_line([str(BIN / "dvc"), "--version"]),
    }
    if gto_exe is not None:
        out["gto"] = _first_line([str(gto_exe), "--version"]).split("Version:")[-1].strip()
    if mlflow_py is not None:
        out["mlflow"] = _first_line(
            [str(mlflow_py), "-c", "import mlflow; print(mlflow.__version__)"]
        )
    return out
