"""boto3 writes 2,000 items to the standalone endpoint and reads every one back in pages.

Usage: boto3_pages.py ENDPOINT_URL CA_FILE ACCESS_KEY SECRET
1,600 items of 3 KB under one partition key and 400 small ones under 8 others, written with
BatchWriteItem (25 a call); then read back with boto3's Scan paginator, with Query pages of 30
items (about 90 KB, over 64 KiB) and with unlimited Query pages (stopped by the 1 MB limit).
Each read must return every item exactly once with its content. Prints one JSON object with
the page sizes and timings; exits non-zero on any mismatch.
"""
import hashlib
import json
import sys
import time

import boto3
from botocore.config import Config

url, ca, akid, secret = sys.argv[1:5]
ddb = boto3.client(
    "dynamodb",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id=akid,
    aws_secret_access_key=secret,
    verify=ca,
    # Generous read timeout: a failure should be a wrong answer, not a slow machine.
    config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
)

BIG, BIG_N, SMALL_N = "big", 1600, 400


def payload(pk, sk, size):
    seed = hashlib.sha256(f"{pk}/{sk}".encode()).hexdigest()
    return (seed * (size // len(seed) + 1))[:size]


def expected():
    items = {}
    for i in range(BIG_N):
        items[(BIG, i)] = payload(BIG, i, 3000)
    for i in range(SMALL_N):
        pk = f"dev{i % 8}"
        items[(pk, i)] = payload(pk, i, 40)
    return items


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


want = expected()
out = {}
ddb.create_table(
    TableName="Pages",
    KeySchema=[
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ],
    BillingMode="PAY_PER_REQUEST",
)

t0 = time.monotonic()
keys = sorted(want)
for i in range(0, len(keys), 25):
    reqs = [
        {"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"N": str(sk)}, "data": {"S": want[(pk, sk)]}}}}
        for pk, sk in keys[i : i + 25]
    ]
    r = ddb.batch_write_item(RequestItems={"Pages": reqs})
    if r["UnprocessedItems"]:
        fail(f"unprocessed items: {r['UnprocessedItems']}")
out["write_s"] = round(time.monotonic() - t0, 3)


def check(name, items, subset):
    got = {}
    for it in items:
        k = (it["pk"]["S"], int(it["sk"]["N"]))
        if k in got:
            fail(f"{name}: {k} returned twice")
        got[k] = it["data"]["S"]
    exp = {k: v for k, v in want.items() if subset(k)}
    if got != exp:
        missing = sorted(set(exp) - set(got))[:5]
        extra = sorted(set(got) - set(exp))[:5]
        wrong = [k for k in got if k in exp and got[k] != exp[k]][:5]
        fail(f"{name}: {len(got)} items, want {len(exp)}; missing {missing}, extra {extra}, wrong {wrong}")


# Scan with boto3's paginator.
t0 = time.monotonic()
items, pages = [], []
for page in ddb.get_paginator("scan").paginate(TableName="Pages"):
    items.extend(page["Items"])
    pages.append(page["Count"])
check("scan", items, lambda k: True)
out["scan_s"] = round(time.monotonic() - t0, 3)
out["scan_pages"] = pages


def query(limit):
    items, pages = [], []
    kwargs = {
        "TableName": "Pages",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": BIG}},
        "ReturnConsumedCapacity": "NONE",
    }
    if limit:
        kwargs["Limit"] = limit
    for page in ddb.get_paginator("query").paginate(**kwargs):
        items.extend(page["Items"])
        size = len(json.dumps(page["Items"]))
        pages.append([page["Count"], size])
    check(f"query limit={limit}", items, lambda k: k[0] == BIG)
    return pages


t0 = time.monotonic()
out["query_30_pages"] = query(30)
out["query_30_s"] = round(time.monotonic() - t0, 3)
t0 = time.monotonic()
out["query_1mb_pages"] = query(None)
out["query_1mb_s"] = round(time.monotonic() - t0, 3)
out["items"] = len(want)
print(json.dumps(out))
