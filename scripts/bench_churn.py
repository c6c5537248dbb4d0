"""`make bench-churn`: recall of an index through rounds of deletes and inserts.

Fashion-mnist's 60,000 training images: START rows are indexed, the others
wait in a pool.  Each round deletes CHURN (5%) of the indexed rows at
random, inserts as many rows from the pool (the deleted ones go back to
it), and runs VACUUM.  After each round the test images' recall@10 at
ef_search 40 through the churned index is compared with a fresh build of
the same rows (a copy of the table indexed from scratch), against the exact
top 10 of those rows (numpy).  Prints the curve, writes churn.json and
churn.png to --out, and exits non-zero when a round's recall falls more
than --tolerance below the fresh build's (issue 15: 0.01).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import fmnist  # noqa: E402
from hnswmm import exact, register_vector  # noqa: E402

K = 10


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start", type=int, default=40_000, help="rows indexed at first")
    p.add_argument("--churn", type=float, default=0.05, help="fraction deleted and inserted a round")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--ef", type=int, default=40, help="ef_search of the recall measurements")
    p.add_argument("--nq", type=int, default=500, help="test images used as queries")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="largest recall a round may lose against a fresh build")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--out", default="bench/out-churn")
    return p.parse_args(argv)


def create_index(conn: psycopg.Connection, table: str, args: argparse.Namespace) -> float:
    start = time.perf_counter()
    conn.execute(f"CREATE INDEX {table}_idx ON {table} USING hnswmm (emb vector_l2_ops)"
                 f" WITH (m = {args.m}, ef_construction = {args.ef_construction})")
    return time.perf_counter() - start


def insert_rows(conn: psycopg.Connection, images: np.ndarray, ids: np.ndarray) -> None:
    """Rows by binary COPY: each goes through the index's insert path."""
    oid = register_vector(conn).oid
    with conn.cursor().copy("COPY items (id, emb) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", oid])
        for i in ids:
            copy.write_row((int(i), images[i]))


def recall(conn: psycopg.Connection, table: str, images: np.ndarray, ids: np.ndarray,
           queries: np.ndarray, ef: int) -> float:
    """recall@10 of the index on `table` over rows `ids` of images."""
    base = images[ids]
    _, true_dist = exact.exact_knn("l2", base, queries, K)
    position = {int(i): n for n, i in enumerate(ids)}
    found = np.full((len(queries), K), -1, np.int64)
    conn.execute("SET enable_seqscan = off")
    conn.execute(f"SET hnswmm.ef_search = {ef}")
    cur = conn.cursor()
    sql = f"SELECT id FROM {table} ORDER BY emb <-> %s LIMIT {K}"
    for qi, q in enumerate(queries):
        rows = cur.execute(sql, (q,), prepare=True).fetchall()
        found[qi, :len(rows)] = [position[r[0]] for r in rows]
    return exact.recall_at_k("l2", base, queries, found, true_dist)


def plot(rounds: list[dict], path: Path, tolerance: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = [r["round"] for r in rounds]
    ax.plot(x, [r["churned"] for r in rounds], "o-", label="after churn and VACUUM")
    ax.plot(x, [r["fresh"] for r in rounds], "s--", label="fresh build of the same rows")
    ax.plot(x, [r["fresh"] - tolerance for r in rounds], ":", color="grey",
            label=f"fresh - {tolerance}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("round (5% of the rows deleted and as many inserted, then VACUUM)")
    ax.set_ylabel(f"recall@{K}")
    ax.set_title("recall through churn, fashion-mnist")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    images = fmnist.load_images("train")
    queries = fmnist.load_images("test")[:args.nq]
    order = rng.permutation(len(images))
    indexed = np.sort(order[:args.start])
    pool = list(order[args.start:])
    per_round = int(round(args.start * args.churn))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rounds: list[dict] = []
    with psycopg.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS items, fresh")
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, emb vector(784))"
                     " WITH (autovacuum_enabled = off)")
        conn.execute("ALTER TABLE items ALTER COLUMN emb SET STORAGE PLAIN")
        insert_rows(conn, images, indexed)
        build = create_index(conn, "items", args)
        print(f"{len(indexed):,} rows indexed in {build:.1f} s; {args.rounds} rounds of"
              f" {per_round:,} deletes and inserts", flush=True)
        start_recall = recall(conn, "items", images, indexed, queries, args.ef)
        print(f"round  0: recall@{K} {start_recall:.4f} (the build)", flush=True)
        print(f"{'round':>5} {'rows':>7} {'churned':>8} {'fresh':>7} {'diff':>7}"
              f" {'insert s':>9} {'VACUUM s':>9}", flush=True)
        for rnd in range(1, args.rounds + 1):
            victims = rng.choice(indexed, per_round, replace=False)
            conn.execute("DELETE FROM items WHERE id = ANY(%s)", (victims.tolist(),))
            rng.shuffle(pool)
            newcomers = np.array(pool[:per_round])
            pool = pool[per_round:] + victims.tolist()
            t0 = time.perf_counter()
            insert_rows(conn, images, newcomers)
            insert_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            conn.execute("VACUUM items")
            vacuum_s = time.perf_counter() - t0
            indexed = np.sort(np.concatenate([np.setdiff1d(indexed, victims), newcomers]))
            churned = recall(conn, "items", images, indexed, queries, args.ef)
            conn.execute("CREATE TABLE fresh AS SELECT * FROM items")
            create_index(conn, "fresh", args)
            fresh = recall(conn, "fresh", images, indexed, queries, args.ef)
            conn.execute("DROP TABLE fresh")
            verify = conn.execute("SELECT live, deleted, unreachable FROM hnswmm_verify('items_idx')").fetchone()
            rounds.append({"round": rnd, "rows": len(indexed), "churned": churned, "fresh": fresh,
                           "insert_seconds": insert_s, "vacuum_seconds": vacuum_s,
                           "live": verify[0], "deleted": verify[1], "unreachable": verify[2]})
            print(f"{rnd:>5} {len(indexed):>7,} {churned:>8.4f} {fresh:>7.4f} {churned - fresh:>+7.4f}"
                  f" {insert_s:>9.1f} {vacuum_s:>9.1f}   (verify: {verify[0]} live,"
                  f" {verify[1]} deleted, {verify[2]} unreachable)", flush=True)
    worst = min(r["churned"] - r["fresh"] for r in rounds)
    ok = worst >= -args.tolerance and all(r["unreachable"] == 0 for r in rounds)
    summary = (f"worst round: {worst:+.4f} against a fresh build (tolerance {args.tolerance});"
               f" {'ok' if ok else 'FAILED'}")
    print(summary)
    (out / "churn.json").write_text(json.dumps({"config": vars(args), "build_seconds": build,
                                                "start_recall": start_recall, "rounds": rounds,
                                                "worst": worst, "ok": ok}, indent=2) + "\n")
    plot(rounds, out / "churn.png", args.tolerance)
    print(f"wrote {out}/churn.json, churn.png")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
