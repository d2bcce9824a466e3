#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ (run from anywhere; needs botocore).

The seeds are real inputs: requests signed by botocore as boto3 sends them, the DynamoDB
bodies and expressions the test suite uses, gdb's packets, DHCP/DNS/SNTP/TCP frames as a
device sends them, a provisioned configuration block. The ELF seeds (a small -nostdlib guest
and hello.c, built with ft32-elf-gcc) are committed as built, not made here.
"""
import json
import os
import struct
import zlib

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def signed(op, body, target="/", token=None):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    data = json.dumps(body).encode()
    req = AWSRequest(
        method="POST",
        url="https://dynamodb.us-east-1.amazonaws.com" + target,
        data=data,
        headers={
            "X-Amz-Target": "DynamoDB_20120810." + op,
            "Content-Type": "application/x-amz-json-1.0",
            "User-Agent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux",
            "Accept-Encoding": "identity",
        },
    )
    SigV4Auth(creds, "dynamodb", "us-east-1").add_auth(req)
    p = req.prepare()
    head = f"POST {target} HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com\r\n"
    for k, v in p.headers.items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


PUT = {"TableName": "SensorReadings", "Item": {"deviceId": {"S": "hopper"}, "seq": {"N": "42"},
       "temp": {"N": "21.5"}, "at": {"S": "2024-01-01T00:00:05Z"}}}
QUERY = {"TableName": "SensorReadings", "KeyConditionExpression": "#d = :d AND #s BETWEEN :lo AND :hi",
         "ExpressionAttributeNames": {"#d": "deviceId", "#s": "seq"},
         "ExpressionAttributeValues": {":d": {"S": "hopper"}, ":lo": {"N": "1"}, ":hi": {"N": "10"}},
         "Limit": 2, "ScanIndexForward": True}
SCAN = {"TableName": "SensorReadings", "FilterExpression": "temp > :t", "ProjectionExpression": "deviceId, seq, temp",
        "ExpressionAttributeValues": {":t": {"N": "0"}}, "ExclusiveStartKey": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}}}
GET = {"TableName": "SensorReadings", "Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}}, "ConsistentRead": True}
DELETE = {"TableName": "SensorReadings", "Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "2"}},
          "ConditionExpression": "attribute_exists(deviceId)", "ReturnValues": "ALL_OLD"}
BATCH = {"RequestItems": {"SensorReadings": [
    {"PutRequest": {"Item": {"deviceId": {"S": "lovelace"}, "seq": {"N": "7"}, "v": {"L": [{"N": "1"}, {"S": "x"}]}}}},
    {"DeleteRequest": {"Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}}}}]}}
CREATE = {"TableName": "Readings2", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "t", "KeyType": "RANGE"}],
          "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "t", "AttributeType": "N"}],
          "BillingMode": "PAY_PER_REQUEST"}
UPDATE = {"TableName": "SensorReadings", "Key": {"deviceId": {"S": "hopper"}, "seq": {"N": "1"}},
          "UpdateExpression": "SET temp = :t, #n = if_not_exists(#n, :z) ADD hits :one REMOVE raw",
          "ExpressionAttributeNames": {"#n": "count"},
          "ExpressionAttributeValues": {":t": {"N": "22"}, ":z": {"N": "0"}, ":one": {"N": "1"}},
          "ReturnValues": "ALL_NEW"}
BATCH_GET = {"RequestItems": {"SensorReadings": {"Keys": [{"deviceId": {"S": "hopper"}, "seq": {"N": "1"}}],
             "ProjectionExpression": "temp"}}}

# --- http_request: the first byte is the split stride.
write("http_request", "put_item", b"\x07" + signed("PutItem", PUT))
write("http_request", "pipelined", b"\x40" + signed("GetItem", GET) + signed("Query", QUERY))
write("http_request", "health_http10", b"\x01GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
write("http_request", "chunked_refused", b"\x10POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
write("http_request", "conflicting_length", b"\x03POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")

# --- sigv4: whole signed requests (and one bare Authorization value).
write("sigv4", "put_item", signed("PutItem", PUT))
write("sigv4", "query_with_token", signed("Query", QUERY, token="FQoGZXIvYXdzEXAMPLETOKEN"))
write("sigv4", "path_and_query", signed("Scan", SCAN, target="/a%20b/./c?z=1&a=%2F&a=0&empty"))
write("sigv4", "authorization_only",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")

# --- dynamodb: op selector byte + body, requests separated by 0xFF.
OPS = ["PutItem", "GetItem", "DeleteItem", "UpdateItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem",
       "TransactWriteItems", "TransactGetItems", "CreateTable", "DescribeTable", "ListTables", "DeleteTable",
       "UpdateTable", "DescribeEndpoints", ""]


def req(op, body):
    return bytes([OPS.index(op)]) + json.dumps(body).encode()


write("dynamodb", "put_get_query", b"\xff".join([req("PutItem", PUT), req("GetItem", GET), req("Query", QUERY)]))
write("dynamodb", "scan_delete_batch", b"\xff".join([req("Scan", SCAN), req("DeleteItem", DELETE), req("BatchWriteItem", BATCH)]))
write("dynamodb", "tables", b"\xff".join([req("CreateTable", CREATE), req("ListTables", {"Limit": 5}),
                                        req("DescribeTable", {"TableName": "Readings2"}), req("DeleteTable", {"TableName": "Readings2"})]))
write("dynamodb", "update_batch_get", b"\xff".join([req("UpdateItem", UPDATE), req("BatchGetItem", BATCH_GET)]))
write("dynamodb", "blobs", req("PutItem", {"TableName": "Blobs", "Item": {"k": {"B": "AAECAw=="}, "ns": {"NS": ["1", "1.50", "-2e3"]},
                                                                        "bs": {"BS": ["AA==", "AQ=="]}, "n": {"NULL": True}}}))

# --- expression: slot selector byte + expression text.
write("expression", "key_condition", b"\x02#d = :d AND #s BETWEEN :lo AND :hi")
write("expression", "condition", b"\x00attribute_not_exists(deviceId) OR NOT (temp >= :t AND begins_with(#d, :p))")
write("expression", "filter", b"\x04(temp < :a OR temp <> :b) AND attribute_exists(tags)")
write("expression", "projection", b"\x05deviceId, #s, temp, m.x[0]")
write("expression", "update", b"\x07SET temp = :t, #n = if_not_exists(#n, :z) + :one ADD hits :one DELETE tags :s REMOVE raw")

# --- gdb_rsp: odd first byte = one packet per line ('!' = monitor command); even = raw bytes.
session = [b"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vContSupported+",
           b"vMustReplyEmpty", b"QStartNoAckMode", b"Hg0", b"qXfer:features:read:target.xml:0,ffb",
           b"qTStatus", b"?", b"qfThreadInfo", b"qC", b"qAttached", b"g", b"m0,40", b"m800000,40",
           b"p20", b"Z0,18,4", b"vCont?", b"vCont;c:p1.-1", b"z0,18,4", b"s", b"vCont;s:p1.-1",
           b"M800010,4:01020304", b"X800020,2:ab", b"P0=78563412", b"Z2,800000,4", b"Z3,800004,4",
           b"Z4,800008,4", b"c", b"z2,800000,4", b"D;1"]
write("gdb_rsp", "session", b"\x01" + b"\n".join(session))
write("gdb_rsp", "monitor", b"\x01" + b"\n".join([b"!help", b"!uart", b"!uart all", b"!io", b"!io uart0",
                                                     b"!net", b"!time", b"!step-irq on", b"!reset", b"g", b"k"]))
pkts = [b"+", b"$g#67", b"$m0,4#fd", b"$g#00", b"-", b"garbage$m0,4", b"\x03", b"$?#3f", b"$D#44"]
write("gdb_rsp", "raw_wire", b"\x00" + b"".join(pkts))

# --- usernet: records kind, len (u16 LE), payload, gap.
MAC = bytes([0x02, 0xf9, 0, 0, 0, 1])


def rec(kind, payload, gap=1):
    return bytes([kind]) + struct.pack("<H", len(payload)) + payload + bytes([gap])


def dhcp(msg_type, xid, requested=None, server=None):
    b = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, bytes(4), bytes(4), bytes(4), bytes(4),
                    MAC + bytes(10), bytes(64), bytes(128))
    b += bytes([99, 130, 83, 99, 53, 1, msg_type, 61, 7, 1]) + MAC
    if requested:
        b += bytes([50, 4]) + bytes(requested)
    if server:
        b += bytes([54, 4]) + bytes(server)
    b += bytes([55, 4, 1, 3, 6, 42, 12, 6]) + b"ft900d" + bytes([255])
    return b


def dns_query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


sntp = bytes([0x23]) + bytes(39) + struct.pack("!II", 0xE9000000, 0)
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC, bytes([10, 0, 2, 15]), bytes(6), bytes([10, 0, 2, 2]))
syn = bytes([0x02]) + struct.pack("!II", 1000, 0)
ack_data = bytes([0x18]) + struct.pack("!II", 1001, 0) + b"hello"
write("usernet", "dhcp_dns_sntp", rec(1, dhcp(1, 0x1234)) + rec(1, dhcp(3, 0x1234, [10, 0, 2, 15], [10, 0, 2, 2]))
      + rec(8, arp) + rec(2, dns_query(7, "dynamodb.us-east-1.amazonaws.com")) + rec(3, sntp, 200))
write("usernet", "tcp_udp_flows", rec(5, syn) + rec(5, ack_data) + rec(4, b"datagram")
      + rec(6, bytes([99, 1, 0x01, 0xbb]) + syn) + rec(6, bytes([99, 0, 0, 53]) + b"q") + rec(7, bytes([1, 8, 0, 0xf7, 0xff, 0, 0, 0, 0]), 255))
eth = bytes([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]) + MAC + b"\x08\x00"
write("usernet", "raw_frame", rec(0, eth + bytes([0x45, 0, 0, 20, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2])))

# --- provision: 0 = whole block, 1 = payload only, 2 = key=value lines, else a PEM bundle.


def block(records):
    payload = b""
    for tag, value in records:
        payload += struct.pack("<HH", tag, len(value)) + value
        payload += bytes(-len(payload) % 4)
    payload += bytes(4)
    return b"FTCF" + struct.pack("<HHII", 1, 16, len(payload), zlib.crc32(payload)) + payload, payload


recs = [(1, b"AKIDEXAMPLE"), (2, b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), (4, b"us-east-1"),
        (5, b"dynamodb.us-east-1.amazonaws.com"), (6, b"443"), (7, b"SensorReadings"), (10, b"hopper"),
        (11, b"1000"), (13, bytes(range(32))), (14, MAC), (15, b"3")]
whole, payload = block(recs)
write("provision", "block", b"\x00" + whole)
write("provision", "payload", b"\x01" + payload)
pem = os.popen("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null "
               "-subj /CN=fuzz-ca -days 1 2>/dev/null").read()
write("provision", "settings", "\x02aws.region=eu-west-1\ndevice.id=hopper\ndevice.mac=02:f9:00:00:00:01\n"
      "endpoint.port=8443\nentropy.seed=" + "ab" * 32 + "\n")
write("provision", "ca_bundle", "\x03" + pem + pem)
