#!/usr/bin/env python3
"""A small sample application for `make demo`: writes orders to a SQLite
database in many short transactions (inserts, updates, deletes), the way a
web app would, and prints a fingerprint of the final content."""
import hashlib
import random
import sqlite3
import sys
import time


def fingerprint(path):
    """Row count and SHA-256 of every row of every table, in order."""
    db = sqlite3.connect(path)
    h = hashlib.sha256()
    rows = 0
    for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        for row in db.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
            h.update(repr(row).encode())
            rows += 1
    db.close()
    return rows, h.hexdigest()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--fingerprint":
        rows, digest = fingerprint(sys.argv[2])
        print(f"{rows} {digest}")
        return
    path, transactions, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, "
               "customer TEXT, item TEXT, qty INTEGER, note TEXT)")
    rng = random.Random(42)
    pause = seconds / max(1, transactions)
    for i in range(transactions):
        db.execute("BEGIN")
        op = rng.random()
        if op < 0.7 or i < 10:
            db.execute("INSERT INTO orders(customer, item, qty, note) VALUES(?,?,?,?)",
                       (f"customer-{rng.randrange(500)}", f"item-{rng.randrange(80)}",
                        rng.randrange(1, 9), "x" * rng.randrange(0, 400)))
        elif op < 0.9:
            db.execute("UPDATE orders SET qty = qty + 1 WHERE id = ?",
                       (rng.randrange(1, i + 1),))
        else:
            db.execute("DELETE FROM orders WHERE id = ?", (rng.randrange(1, i + 1),))
        db.execute("COMMIT")
        if pause > 0:
            time.sleep(pause)
    db.close()


if __name__ == "__main__":
    main()
