#!/usr/bin/env python3
"""A linearizable key/value history of the shape raftlab torture records, for timing
raftlab lincheck on 10^5-10^6 operations.

usage: bench/kv-history.py OPS CLIENTS KEYS CRASH SEED OUT.jsonl

CLIENTS clients issue OPS operations one after another (45% gets, 45% appends, 10%
puts of unique values) on KEYS keys; each takes effect at a random point of its
interval, in that order, so the history is linearizable by construction. A share
CRASH (0 to 1) of the operations never returns: it takes effect or not (half the time
each), its client is replaced by a new one. Example:

    bench/kv-history.py 1000000 10 5 0.01 2 /tmp/h.jsonl && raftlab lincheck /tmp/h.jsonl
"""
import json
import random
import sys


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    n_ops, clients, keys = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    crash, seed, out = float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    rnd = random.Random(seed)
    free = [0] * clients
    ids = list(range(clients))
    next_id = clients
    planned = []
    writes = 0
    for _ in range(n_ops):
        c = min(range(clients), key=lambda c: (free[c], c))
        call = free[c] + rnd.randint(0, 5)
        dur = rnd.randint(1, 40)
        point = call + rnd.random() * dur
        key = "k%d" % rnd.randrange(keys)
        roll = rnd.randrange(100)
        if roll < 45:
            op, value = "get", ""
        else:
            writes += 1
            value = "<c%d.%d>" % (c, writes)
            op = "append" if roll < 90 else "put"
        crashed = rnd.random() < crash
        applied = not crashed or rnd.random() < 0.5
        planned.append({"client": ids[c], "op": op, "key": key, "value": value,
                        "call": call, "ret": None if crashed else call + dur,
                        "point": point if applied else None})
        free[c] = call + dur + 1
        if crashed:
            ids[c] = next_id
            next_id += 1
    state = {}
    for p in sorted((p for p in planned if p["point"] is not None), key=lambda p: p["point"]):
        now = state.get(p["key"], "")
        if p["op"] == "get":
            p["output"] = now
        elif p["op"] == "put":
            state[p["key"]] = p["value"]
        else:
            state[p["key"]] = now + p["value"]
    with open(out, "w") as f:
        for p in planned:
            line = {"client": p["client"], "op": p["op"], "key": p["key"], "call": p["call"]}
            if p["op"] != "get":
                line["value"] = p["value"]
            if p["ret"] is not None:
                line["return"] = p["ret"]
                if p["op"] == "get":
                    line["output"] = p.get("output", "")
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
