"""MLflow's model registry on a sqlite store, as a peer. Runs in the MLflow venv only.

    python mlflow_peer.py populate DB M V     the same models, versions and aliases
    python mlflow_peer.py alias NAME ALIAS    get_model_version_by_alias (timed)
    python mlflow_peer.py search NAME         search_model_versions(name='NAME') (timed)

The two timed commands read MLFLOW_TRACKING_URI. `populate` makes the first model, version
and alias through MlflowClient (so the schema and rows are MLflow's own), then copies those
rows in bulk with sqlite3 for the rest: model m<k>, versions 1..V (gitreg's 1.<i>.0 is MLflow
version i+1), alias `staging` on V and `production` where gitreg's production is.
"""

from __future__ import annotations

import sqlite3
import sys
import time


def _rows(con: sqlite3.Connection, table: str, where: str) -> list[dict[str, object]]:
    cur = con.execute(f"SELECT * FROM {table} WHERE {where}")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _insert(con: sqlite3.Connection, table: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    con.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


def populate(db: str, models: int, versions: int) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m0", description="benchmark model 0")
    client.create_model_version("m0", source="s3://bench/m0/1.0.0", description="v0")
    client.set_registered_model_alias("m0", "staging", "1")
    last_odd = versions - 1 if (versions - 1) % 2 else versions - 2
    aliases = {"staging": versions}
    if versions >= 2:
        aliases["production"] = last_odd  # gitreg's 1.<last_odd-1>.0
    con = sqlite3.connect(db)
    model_t = _rows(con, "registered_models", "name = 'm0'")[0]
    version_t = _rows(con, "model_versions", "name = 'm0'")[0]
    alias_t = _rows(con, "registered_model_aliases", "name = 'm0'")[0]
    for table in ("registered_model_aliases", "model_versions", "registered_models"):
        con.execute(f"DELETE FROM {table}")
    now = int(time.time() * 1000)
    ms, vs, als = [], [], []
    for k in range(models):
        name = f"m{k}"
        ms.append(
            {
                **model_t,
                "name": name,
                "description": f"benchmark model {k}",
                "creation_time": now,
                "last_updated_time": now,
            }
        )
        for i in range(versions):
            vs.append(
                {
                    **version_t,
                    "name": name,
                    "version": i + 1,
                    "source": f"s3://bench/{name}/1.{i}.0",
                    "description": f"benchmark version {i} of {name}",
                    "creation_time": now + i,
                    "last_updated_time": now + i,
                }
            )
        for alias, version in aliases.items():
            als.append({**alias_t, "name": name, "alias": alias, "version": version})
    _insert(con, "registered_models", ms)
    _insert(con, "model_versions", vs)
    _insert(con, "registered_model_aliases", als)
    con.commit()
    con.close()
    probe = f"m{min(7, models - 1)}"
    got = client.get_model_version_by_alias(probe, "staging").version
    assert int(got) == versions, f"{probe}@staging is {got}, not {versions}"
    print(f"populated {models} models x {versions} versions; {probe}@staging = {got}")


def main(argv: list[str]) -> None:
    cmd, *args = argv
    if cmd == "populate":
        populate(args[0], int(args[1]), int(args[2]))
        return
    from mlflow import MlflowClient

    client = MlflowClient()
    if cmd == "alias":
        mv = client.get_model_version_by_alias(args[0], args[1])
        print(mv.name, mv.version, mv.source)
    elif cmd == "search":
        found = client.search_model_versions(f"name='{args[0]}'")
        print(len(found), "versions:", " ".join(sorted(str(m.version) for m in found)))
    else:
        raise SystemExit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
