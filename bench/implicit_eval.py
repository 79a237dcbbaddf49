#!/usr/bin/env python3
"""The library baseline of `souk-server eval`: the Python package `implicit`
(ALS and BPR) on the split the Rust side wrote.

Usage: implicit_eval.py DIR N_ITEMS N_USERS

DIR holds `train.csv` (user,item,count: invoices in which the customer bought the
product, before the cut-off) and `cases.csv` (task,case,user,items):

- `foryou` cases name a training user; the top 10 leaves out what they bought.
- `cart` cases list the cart's items (space-separated); the cart is folded in as
  a new user (ALS: `recalculate_user`; BPR: the mean of the cart's item factors)
  and the top 10 leaves the cart out.

Prints `fit,<method>,<seconds>` per model, then `rec,<method>,<task>,<case>,<items>`
(the top 10, space-separated) per case. Settings are fixed below, seeded, and were
not tuned on the test period.
"""

import csv
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import bm25_weight

N = 10
SEED = 42
THREADS = 2


def read(directory, n_items, n_users):
    users, items, counts = [], [], []
    with open(os.path.join(directory, "train.csv"), newline="") as f:
        for row in csv.DictReader(f):
            users.append(int(row["user"]))
            items.append(int(row["item"]))
            counts.append(float(row["count"]))
    train = sp.csr_matrix(
        (np.array(counts, dtype=np.float32), (users, items)), shape=(n_users, n_items)
    )
    cases = []
    with open(os.path.join(directory, "cases.csv"), newline="") as f:
        for row in csv.DictReader(f):
            cart = [int(i) for i in row["items"].split()] if row["items"] else []
            user = int(row["user"]) if row["user"] else None
            cases.append((row["task"], row["case"], user, cart))
    return train, cases


def top(scores, excluded):
    scores = scores.copy()
    scores[list(excluded)] = -np.inf
    best = np.argpartition(-scores, N)[:N]
    return best[np.argsort(-scores[best], kind="stable")]


def main():
    directory, n_items, n_users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    train, cases = read(directory, n_items, n_users)
    out = []

    # ALS on BM25-weighted counts, as implicit's own examples weigh play counts.
    weighted = bm25_weight(train, K1=100, B=0.8).tocsr().astype(np.float32)
    als = AlternatingLeastSquares(
        factors=64, regularization=0.05, iterations=15, random_state=SEED, num_threads=THREADS
    )
    started = time.perf_counter()
    als.fit(weighted, show_progress=False)
    print(f"fit,implicit ALS,{time.perf_counter() - started:.3f}", flush=True)
    fold_weight = float(weighted.data.mean()) if weighted.nnz else 1.0
    for task, case, user, cart in cases:
        if task == "foryou":
            ids, _ = als.recommend(user, weighted[user], N=N, filter_already_liked_items=True)
        else:
            row = sp.csr_matrix(
                (np.full(len(cart), fold_weight, dtype=np.float32), ([0] * len(cart), cart)),
                shape=(1, n_items),
            )
            ids, _ = als.recommend(
                0, row, N=N, recalculate_user=True, filter_already_liked_items=True
            )
        out.append(f"rec,implicit ALS,{task},{case},{' '.join(map(str, ids))}")

    bpr = BayesianPersonalizedRanking(
        factors=64, learning_rate=0.01, regularization=0.01, iterations=100,
        random_state=SEED, num_threads=THREADS,
    )
    started = time.perf_counter()
    bpr.fit((train > 0).astype(np.float32).tocsr(), show_progress=False)
    print(f"fit,implicit BPR,{time.perf_counter() - started:.3f}", flush=True)
    items = np.asarray(bpr.item_factors)
    users = np.asarray(bpr.user_factors)
    for task, case, user, cart in cases:
        if task == "foryou":
            excluded = train[user].indices
            scores = items @ users[user]
        else:
            excluded = cart
            vector = items[cart].mean(axis=0)
            vector[-1] = 1.0  # the item-bias column
            scores = items @ vector
        ids = top(scores, excluded)
        out.append(f"rec,implicit BPR,{task},{case},{' '.join(map(str, ids))}")

    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
