"""The same requests, valid and invalid, to the endpoint and to dynalite; the outcomes compared.

Usage: compare.py ENDPOINT_URL CA_FILE ACCESS_KEY SECRET DYNALITE_URL
Each step is sent to both with boto3 (raw HTTP for the Content-Type step). An outcome is
"ok" with the relevant part of the answer, or the error code (`__type` without its prefix,
as boto3 reports it) or HTTP status. Where dynalite is known to differ from DynamoDB (it has
no transactions), the endpoint is compared with DynamoDB's documented behaviour instead.
Prints a JSON list of {step, ours, dynalite, expected, same, msg_same}; exits 0 either way (the
Rust test asserts on it).
"""
import http.client
import json
import ssl
import sys
import urllib.parse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, ca, akid, secret, dyn_url = sys.argv[1:6]
cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False)
ours = boto3.client(
    "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id=akid,
    aws_secret_access_key=secret, verify=ca, config=cfg,
)
dyn = boto3.client(
    "dynamodb", endpoint_url=dyn_url, region_name="us-east-1", aws_access_key_id="AKIADYNALITE",
    aws_secret_access_key="dynalite", config=cfg,
)


def norm(v):
    """Order-free form of an answer: sets and lists of items sorted."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if k not in ("ResponseMetadata", "ConsumedCapacity")}
    if isinstance(v, list):
        items = [norm(x) for x in v]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
    return v


def run(client, op, kwargs, pick):
    try:
        r = getattr(client, op)(**kwargs)
        return {"ok": norm(pick(r))}, ""
    except ClientError as e:
        return e.response["Error"].get("Code"), e.response["Error"].get("Message", "")


rows = []


def step(name, op, kwargs, pick=lambda r: r, expected=None):
    """Sends one request to both. `expected` replaces dynalite's outcome where it diverges."""
    a, am = run(ours, op, kwargs, pick)
    b, bm = run(dyn, op, kwargs, pick)
    want = b if expected is None else (expected if isinstance(expected, str) else norm(expected))
    rows.append({
        "step": name, "ours": a, "dynalite": b, "expected": want, "same": a == want,
        "msg_same": am == bm, "ours_msg": am, "dynalite_msg": bm,
    })


def table(name):
    for c in (ours, dyn):
        c.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )


table("Cmp")
table("Cmp2")
K = {"pk": {"S": "a"}, "sk": {"N": "1"}}


def key(i, pk="a"):
    return {"pk": {"S": pk}, "sk": {"N": str(i)}}


def upd(expr, values=None, rv="ALL_NEW", names=None, cond=None, k=K):
    kw = {"TableName": "Cmp", "Key": k, "UpdateExpression": expr, "ReturnValues": rv}
    if values is not None:
        kw["ExpressionAttributeValues"] = values
    if names is not None:
        kw["ExpressionAttributeNames"] = names
    if cond is not None:
        kw["ConditionExpression"] = cond
    return kw


step("PutItem base", "put_item", {"TableName": "Cmp", "Item": {
    **K, "n": {"N": "1"}, "tags": {"SS": ["x"]}, "l": {"L": [{"S": "a"}]}, "gone": {"BOOL": True}}})
step("UpdateItem SET arithmetic/if_not_exists/list_append ALL_NEW", "update_item", upd(
    "SET n = n + :one, m = if_not_exists(m, :ten) - :one, l = list_append(l, :l), #s = :s",
    {":one": {"N": "1"}, ":ten": {"N": "10"}, ":l": {"L": [{"S": "b"}]}, ":s": {"S": "on"}},
    names={"#s": "status"}))
step("UpdateItem REMOVE UPDATED_OLD", "update_item", upd("REMOVE gone, nothing", rv="UPDATED_OLD"))
step("UpdateItem ADD number and set UPDATED_NEW", "update_item", upd(
    "ADD n :five, tags :t", {":five": {"N": "5"}, ":t": {"SS": ["y", "z"]}}, rv="UPDATED_NEW"))
step("UpdateItem DELETE from set ALL_OLD", "update_item", upd(
    "DELETE tags :t", {":t": {"SS": ["x", "y"]}}, rv="ALL_OLD"))
step("UpdateItem creates a missing item ALL_NEW", "update_item", upd(
    "SET v = :v", {":v": {"N": "7"}}, k=key(2)))
step("UpdateItem without UpdateExpression creates the key", "update_item",
     {"TableName": "Cmp", "Key": key(3), "ReturnValues": "ALL_NEW"})
step("UpdateItem NONE", "update_item", upd("SET v = :v", {":v": {"N": "8"}}, rv="NONE", k=key(2)))
step("UpdateItem condition fails", "update_item", upd(
    "SET n = :z", {":z": {"N": "0"}, ":max": {"N": "3"}}, cond="n < :max"))
step("UpdateItem condition holds", "update_item", upd(
    "SET n = :z", {":z": {"N": "0"}, ":min": {"N": "3"}}, cond="n > :min"))
step("UpdateItem condition attribute_not_exists on existing", "update_item", upd(
    "SET n = :z", {":z": {"N": "1"}}, cond="attribute_not_exists(pk)"))
for name, kw in [
    ("syntax error", upd("SET a :v", {":v": {"N": "1"}})),
    ("empty expression", upd("", None)),
    ("undefined value", upd("SET a = :nope", {":v": {"N": "1"}})),
    ("unused value", upd("SET a = :v", {":v": {"N": "1"}, ":w": {"N": "2"}})),
    ("undefined name", upd("SET #a = :v", {":v": {"N": "1"}})),
    ("reserved word", upd("SET status = :v", {":v": {"N": "1"}})),
    ("key attribute", upd("SET sk = :v", {":v": {"N": "1"}})),
    ("overlapping paths", upd("SET a = :v REMOVE a", {":v": {"N": "1"}})),
    ("SET twice", upd("SET a = :v SET b = :v", {":v": {"N": "1"}})),
    ("ADD a string", upd("ADD a :v", {":v": {"S": "x"}})),
    ("DELETE a number", upd("DELETE a :v", {":v": {"N": "1"}})),
    ("+ on a string value", upd("SET a = n + :v", {":v": {"S": "x"}})),
    ("unknown function", upd("SET a = foo(n)", None)),
    ("list_append one operand", upd("SET l = list_append(l)", None)),
    ("if_not_exists of a value", upd("SET a = if_not_exists(:v, n)", {":v": {"N": "1"}})),
    ("absent attribute in arithmetic", upd("SET a = absent + :v", {":v": {"N": "1"}})),
    ("arithmetic on a set", upd("SET a = tags + :v", {":v": {"N": "1"}})),
    ("ADD number to a set", upd("ADD tags :v", {":v": {"N": "1"}})),
    ("invalid ReturnValues", upd("SET a = :v", {":v": {"N": "1"}}, rv="SOME")),
    ("invalid value", upd("SET a = :v", {":v": {"N": "abc"}})),
    ("wrong key", upd("SET a = :v", {":v": {"N": "1"}}, k={"pk": {"S": "a"}})),
    ("missing table", {**upd("SET a = :v", {":v": {"N": "1"}}), "TableName": "Nope"}),
]:
    step(f"UpdateItem {name}", "update_item", kw)

# BatchGetItem.
step("BatchWriteItem 20 items", "batch_write_item", {"RequestItems": {"Cmp": [
    {"PutRequest": {"Item": {**key(i, "b"), "v": {"N": str(i)}, "w": {"S": "w" * i}}}} for i in range(20)]}})
step("BatchGetItem with projection and a missing key", "batch_get_item", {"RequestItems": {"Cmp": {
    "Keys": [key(1, "b"), key(2, "b"), key(99, "b")], "ProjectionExpression": "sk, #v",
    "ExpressionAttributeNames": {"#v": "v"}}}})
step("BatchGetItem 101 keys", "batch_get_item", {"RequestItems": {"Cmp": {"Keys": [key(i, "b") for i in range(101)]}}})
step("BatchGetItem 60+60 keys on two tables", "batch_get_item", {"RequestItems": {
    "Cmp": {"Keys": [key(i, "b") for i in range(60)]}, "Cmp2": {"Keys": [key(i, "b") for i in range(60)]}}})
step("BatchGetItem duplicate keys", "batch_get_item", {"RequestItems": {"Cmp": {"Keys": [key(1, "b"), key(1, "b")]}}})
step("BatchGetItem missing table", "batch_get_item", {"RequestItems": {"Nope": {"Keys": [key(1, "b")]}}})
step("BatchGetItem wrong key", "batch_get_item", {"RequestItems": {"Cmp": {"Keys": [{"pk": {"S": "b"}}]}}})
# BatchWriteItem limits.
step("BatchWriteItem 26 requests", "batch_write_item", {"RequestItems": {"Cmp": [
    {"PutRequest": {"Item": key(i, "c")}} for i in range(26)]}})
# dynalite checks the 25 per table only; DynamoDB counts the requests of all tables together
# ("Too many items requested for the BatchWriteItem call", API reference: at most 25 requests).
step("BatchWriteItem 13+13 requests on two tables", "batch_write_item", {"RequestItems": {
    "Cmp": [{"PutRequest": {"Item": key(i, "c")}} for i in range(13)],
    "Cmp2": [{"PutRequest": {"Item": key(i, "c")}} for i in range(13)]}},
    expected="ValidationException")
step("BatchWriteItem duplicate keys", "batch_write_item", {"RequestItems": {"Cmp": [
    {"PutRequest": {"Item": key(1, "c")}}, {"DeleteRequest": {"Key": key(1, "c")}}]}})
step("BatchWriteItem item over 400 KB", "batch_write_item", {"RequestItems": {"Cmp": [
    {"PutRequest": {"Item": {**key(1, "c"), "big": {"S": "x" * (401 * 1024)}}}}]}})
step("PutItem condition fails", "put_item", {"TableName": "Cmp", "Item": K, "ConditionExpression": "attribute_not_exists(pk)"})

# Transactions: dynalite 4 has neither operation (it answers UnknownOperationException), so the
# endpoint is held to DynamoDB's documented behaviour (API reference, TransactWriteItems).
tx_fail = {"TransactItems": [
    {"Put": {"TableName": "Cmp", "Item": {**key(1, "t"), "v": {"N": "1"}}}},
    {"Update": {"TableName": "Cmp", "Key": K, "UpdateExpression": "SET n = :z",
                "ExpressionAttributeValues": {":z": {"N": "100"}}}},
    {"ConditionCheck": {"TableName": "Cmp", "Key": key(2), "ConditionExpression": "v = :nine",
                        "ExpressionAttributeValues": {":nine": {"N": "9"}}}},
]}
step("TransactWriteItems with a failing condition", "transact_write_items", tx_fail,
     expected="TransactionCanceledException")
step("TransactGetItems after the cancelled transaction", "transact_get_items", {"TransactItems": [
    {"Get": {"TableName": "Cmp", "Key": key(1, "t")}}, {"Get": {"TableName": "Cmp", "Key": K, "ProjectionExpression": "n"}}]},
    expected={"ok": {"Responses": [{}, {"Item": {"n": {"N": "0"}}}]}})
tx_ok = json.loads(json.dumps(tx_fail))
tx_ok["TransactItems"][2]["ConditionCheck"]["ExpressionAttributeValues"][":nine"] = {"N": "8"}
step("TransactWriteItems all conditions hold", "transact_write_items", tx_ok, expected={"ok": {}})
step("TransactGetItems after the transaction", "transact_get_items", {"TransactItems": [
    {"Get": {"TableName": "Cmp", "Key": key(1, "t")}}, {"Get": {"TableName": "Cmp", "Key": K, "ProjectionExpression": "n"}}]},
    expected={"ok": {"Responses": [{"Item": {**key(1, "t"), "v": {"N": "1"}}}, {"Item": {"n": {"N": "100"}}}]}})
step("TransactWriteItems two actions on one item", "transact_write_items", {"TransactItems": [
    {"Delete": {"TableName": "Cmp", "Key": K}}, {"ConditionCheck": {"TableName": "Cmp", "Key": K, "ConditionExpression": "attribute_exists(n)"}}]},
    expected="ValidationException")
step("TransactWriteItems over 100 actions", "transact_write_items", {"TransactItems": [
    {"Delete": {"TableName": "Cmp", "Key": key(i, "z")}} for i in range(101)]},
    expected="ValidationException")
step("TransactWriteItems missing table", "transact_write_items", {"TransactItems": [
    {"Delete": {"TableName": "Nope", "Key": K}}]}, expected="ResourceNotFoundException")

# Everything both stores hold at the end, less what only one of them wrote (the transactions,
# and the 13+13 batch that dynalite accepts).
step("Scan of the final table", "scan", {"TableName": "Cmp", "FilterExpression": "pk <> :t AND pk <> :c",
                                         "ExpressionAttributeValues": {":t": {"S": "t"}, ":c": {"S": "c"}}},
     # The item the transactions updated on the endpoint only is left out.
     pick=lambda r: [i for i in r["Items"] if i["pk"]["S"] != "a" or i["sk"]["N"] != "1"])


def raw(base, content_type):
    """A POST with a JSON body in `content_type`, unsigned; (status, body)."""
    u = urllib.parse.urlparse(base)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("POST", "/", body=b'{"TableName": "Cmp"}', headers={
        "Content-Type": content_type, "X-Amz-Target": "DynamoDB_20120810.DescribeTable"})
    r = conn.getresponse()
    body = r.read().decode(errors="replace")
    conn.close()
    return r.status, body


for ct in ["text/plain", "application/x-amz-json-1.1", "application/xml"]:
    a, b = raw(url, ct), raw(dyn_url, ct)
    rows.append({"step": f"raw POST Content-Type: {ct}", "ours": a, "dynalite": b, "expected": b,
                 "same": a == b, "msg_same": a[1] == b[1], "ours_msg": a[1], "dynalite_msg": b[1]})

print(json.dumps(rows))
