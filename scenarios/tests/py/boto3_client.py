"""boto3 against the standalone endpoint: table, items, batch, query, and a wrong secret.

Usage: boto3_client.py ENDPOINT_URL CA_FILE ACCESS_KEY SECRET
Prints one JSON object with what it observed; exits non-zero on any unexpected result.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, ca, akid, secret = sys.argv[1:5]
cfg = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(sec):
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=sec,
        verify=ca,
        config=cfg,
    )


ddb = client(secret)
out = {}
ddb.create_table(
    TableName="Boto",
    KeySchema=[
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "n", "KeyType": "RANGE"},
    ],
    AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
    ],
    BillingMode="PAY_PER_REQUEST",
)
out["tables"] = ddb.list_tables()["TableNames"]
out["status"] = ddb.describe_table(TableName="Boto")["Table"]["TableStatus"]
ddb.put_item(
    TableName="Boto",
    Item={"pk": {"S": "a"}, "n": {"N": "1"}, "v": {"SS": ["x", "y"]}},
    ConditionExpression="attribute_not_exists(#p)",
    ExpressionAttributeNames={"#p": "pk"},
)
try:
    ddb.put_item(
        TableName="Boto",
        Item={"pk": {"S": "a"}, "n": {"N": "1"}},
        ConditionExpression="attribute_not_exists(#p)",
        ExpressionAttributeNames={"#p": "pk"},
    )
    out["second_put"] = "accepted"
except ClientError as e:
    out["second_put"] = e.response["Error"]["Code"]
out["get"] = ddb.get_item(TableName="Boto", Key={"pk": {"S": "a"}, "n": {"N": "1"}})["Item"]
batch = ddb.batch_write_item(
    RequestItems={
        "Boto": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}, "n": {"N": str(i)}, "t": {"N": "2.50"}}}}
            for i in range(2, 7)
        ]
    }
)
out["unprocessed"] = batch["UnprocessedItems"]
q = ddb.query(
    TableName="Boto",
    KeyConditionExpression="pk = :p AND n BETWEEN :lo AND :hi",
    ExpressionAttributeValues={":p": {"S": "a"}, ":lo": {"N": "2"}, ":hi": {"N": "4"}},
)
out["query"] = [int(i["n"]["N"]) for i in q["Items"]]
out["query_t"] = q["Items"][0]["t"]["N"]
try:
    client(secret + "x").get_item(TableName="Boto", Key={"pk": {"S": "a"}, "n": {"N": "1"}})
    out["wrong_secret"] = "accepted"
except ClientError as e:
    out["wrong_secret"] = e.response["Error"]["Code"]
    out["wrong_secret_message"] = e.response["Error"]["Message"]
    out["wrong_secret_status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
print(json.dumps(out, sort_keys=True))
