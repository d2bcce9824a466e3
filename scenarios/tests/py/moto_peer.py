"""boto3 against a moto_server that stands in for DynamoDB (scenarios/tests/moto_peer.rs).

Usage:
  moto_peer.py setup URL CA_FILE TABLE
      Creates IAM user "ft900" with a policy allowing dynamodb:*, an access key for it (these
      three requests are the server's INITIAL_NO_AUTH_ACTION_COUNT = 3 unauthenticated ones),
      then, signed with the new key, the table (deviceId S, seq N). Checks that moto refuses
      the same key with a wrong secret. Prints {"access_key_id", "secret_access_key",
      "wrong_secret"} as JSON.
  moto_peer.py scan URL CA_FILE ACCESS_KEY SECRET TABLE
      Prints every item of the table (DynamoDB JSON, all pages) as a JSON list.

Exits non-zero with a message on stderr on anything unexpected.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CFG = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service, url, ca, akid, secret):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        verify=ca,
        config=CFG,
    )


def setup(url, ca, table):
    # Any key will do while moto does not authenticate yet.
    iam = client("iam", url, ca, "AKIAMOTOBOOTSTRAP000", "bootstrap")
    iam.create_user(UserName="ft900")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="ft900", PolicyName="dynamodb", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="ft900")["AccessKey"]
    akid, secret = key["AccessKeyId"], key["SecretAccessKey"]
    # From here on moto checks every signature against the IAM user's secret.
    ddb = client("dynamodb", url, ca, akid, secret)
    ddb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "deviceId", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "deviceId", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        client("dynamodb", url, ca, akid, secret[:-1] + ("x" if secret[-1] != "x" else "y")).list_tables()
        wrong = "accepted"
    except ClientError as e:
        wrong = e.response["Error"]["Code"]
        if wrong == "403":
            # moto answers IAM errors as XML; botocore's JSON parser leaves the code in Message.
            msg = e.response["Error"].get("Message", "")
            if "<Code>" in msg:
                wrong = msg.split("<Code>", 1)[1].split("</Code>", 1)[0]
    print(json.dumps({"access_key_id": akid, "secret_access_key": secret, "wrong_secret": wrong}))


def scan(url, ca, akid, secret, table):
    ddb = client("dynamodb", url, ca, akid, secret)
    items, start = [], None
    while True:
        kw = {"TableName": table}
        if start:
            kw["ExclusiveStartKey"] = start
        page = ddb.scan(**kw)
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    print(json.dumps(items, sort_keys=True))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "setup":
        setup(*sys.argv[2:5])
    elif len(sys.argv) == 7 and sys.argv[1] == "scan":
        scan(*sys.argv[2:7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
